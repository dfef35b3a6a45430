import { useCallback, useState } from 'preact/hooks';
import { describeError } from '../store/chat-store.ts';

/**
 * A component's alert: `error` (shown by <Alert>), `setError`, and `report(action)`, which turns
 * the action's rejection into the alert's text (describeError). `report` is stable across renders.
 * @example const { error, report } = useErrorAlert(); report(store.loadHistory(room));
 */
export function useErrorAlert() {
  const [error, setError] = useState<string | null>(null);
  const report = useCallback((action: Promise<unknown>) => {
    action.catch((err: unknown) => setError(describeError(err)));
  }, []);
  return { error, setError, report };
}
