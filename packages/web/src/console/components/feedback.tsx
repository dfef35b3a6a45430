import type { Problem } from '../problem.ts';

/** The outcome of an action: a success announced politely, a problem assertively (with its code). */
export type Outcome = { ok: true; text: string } | { ok: false; problem: Problem };

export function ProblemAlert({ problem, prefix }: { problem: Problem; prefix?: string }) {
  return (
    <p class="error" role="alert">
      {prefix}
      {problem.message}
      {problem.code && (
        <>
          {' '}
          (code <code>{problem.code}</code>)
        </>
      )}
    </p>
  );
}

/** The live regions stay in the page, so a screen reader hears each new outcome. */
export function OutcomeMessage({ outcome, failurePrefix }: { outcome: Outcome | null; failurePrefix: string }) {
  return (
    <>
      <p class="success" role="status">
        {outcome?.ok ? outcome.text : ''}
      </p>
      {outcome && !outcome.ok && <ProblemAlert problem={outcome.problem} prefix={failurePrefix} />}
    </>
  );
}
