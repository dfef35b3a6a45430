import { Alert } from '../../chat/components/alert.tsx';
import type { Outcome } from '../use-action.ts';

/**
 * The outcome of an action: a success in a polite live region (always in the page, so a screen
 * reader hears each new one), a failure as an alert.
 */
export function OutcomeMessage({ outcome }: { outcome: Outcome | null }) {
  return (
    <>
      <p class="success" role="status">
        {outcome?.ok ? outcome.text : ''}
      </p>
      <Alert message={outcome && !outcome.ok ? outcome.text : null} />
    </>
  );
}
