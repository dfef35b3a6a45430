import { Alert } from './alert.tsx';
import { useCallback, useEffect } from 'preact/hooks';
import type { ConversationState } from '../store/conversation.ts';
import { Composer } from './composer.tsx';
import { useStore } from './context.ts';
import { MessageList, type ListItem } from './message-list.tsx';
import { PendingPage } from './pending-page.tsx';
import { useErrorAlert } from './use-error.ts';

/** A private conversation with one user: both directions, live on every tab of both users. */
export function DmPage({ userId }: { userId: number }) {
  const store = useStore();
  const conversation = store.conversation(userId);
  const name = store.nameOf(userId);
  const { error, report } = useErrorAlert();

  useEffect(() => {
    if (!conversation && name) report(store.conversationWith(name));
  }, [conversation, name, store, report]);

  if (userId === store.me.id) return <p class="page">That is you.</p>;
  if (!conversation) return <PendingPage title="Messages" waiting="Opening the conversation…" error={error} />;
  return <Conversation key={userId} conversation={conversation} />;
}

function Conversation({ conversation }: { conversation: ConversationState }) {
  const store = useStore();
  const { error, report } = useErrorAlert();
  useEffect(() => {
    report(store.openedConversation(conversation));
  }, [conversation, store, report, conversation.messages.value.length]);
  const loadOlder = useCallback(() => report(store.loadPrivateHistory(conversation)), [conversation, store, report]);
  const onBottom = useCallback((atBottom: boolean) => store.seen(conversation, atBottom), [conversation, store]);

  const items = conversation.messages.value.map((m): ListItem => ({
    key: `p${m.id}`,
    author: m.from === store.me.id ? store.me.username : m.fromUsername,
    text: m.message,
    timestamp: m.timestamp,
    mine: m.from === store.me.id,
  }));
  return (
    <section class="page dm" aria-labelledby="page-title">
      <header class="page-header">
        <h2 id="page-title">{conversation.username}</h2>
        <p class="hint">Private conversation</p>
      </header>
      <Alert message={error} />
      <div class="conversation">
        <MessageList
          label={`Messages with ${conversation.username}`}
          items={items}
          hasOlder={conversation.hasOlder.value}
          loadingOlder={conversation.loadingOlder.value}
          onLoadOlder={loadOlder}
          onBottom={onBottom}
          empty={`No messages with ${conversation.username} yet.`}
        />
        <Composer label={`Message ${conversation.username}`} onSend={(text) => store.sendPrivate(conversation, text)} />
      </div>
    </section>
  );
}
