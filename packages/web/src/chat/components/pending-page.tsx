import { Alert } from './alert.tsx';

/** A page whose subject is still being opened (a room joined, a conversation looked up), or could not be. */
export function PendingPage({ title, waiting, error }: { title: string; waiting: string; error: string | null }) {
  return (
    <section class="page" aria-labelledby="page-title">
      <h2 id="page-title">{title}</h2>
      {error ? <Alert message={error} /> : <p role="status">{waiting}</p>}
    </section>
  );
}
