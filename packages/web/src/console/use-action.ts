import { useState } from 'preact/hooks';
import { problemOf, problemText } from './problem.ts';

/** What the last action came to: a success's text, or the problem's text (with its code). */
export type Outcome = { ok: true; text: string } | { ok: false; text: string };

/**
 * One action at a time for a form: `run(action)` does nothing while another runs; the action's
 * result (a success text, or null for nothing to say) or its failure becomes `outcome`.
 */
export function useAction(failurePrefix = '') {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const run = async (action: () => Promise<string | null>) => {
    if (busy) return;
    setBusy(true);
    setOutcome(null);
    try {
      const text = await action();
      if (text !== null) setOutcome({ ok: true, text });
    } catch (err) {
      setOutcome({ ok: false, text: failurePrefix + problemText(problemOf(err)) });
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, run, clear: () => setOutcome(null) };
}
