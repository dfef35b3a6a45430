import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ChatStore } from '../store/chat-store.ts';

export const StoreContext = createContext<ChatStore | null>(null);

/** The signed-in user's store (inside <Shell>). */
export function useStore(): ChatStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore outside <Shell>');
  return store;
}
