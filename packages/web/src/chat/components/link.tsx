import type { ComponentChildren } from 'preact';
import { navigate, pathOf, route as current, type Route } from '../router.ts';

/** A link to a page of the app: a real href (open in a new tab works), followed without a reload. */
export function Link({
  to,
  children,
  class: className,
  label,
}: {
  to: Route;
  children: ComponentChildren;
  class?: string;
  label?: string;
}) {
  const href = pathOf(to);
  const here = pathOf(current.value) === href;
  return (
    <a
      href={href}
      class={className}
      aria-label={label}
      aria-current={here ? 'page' : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
