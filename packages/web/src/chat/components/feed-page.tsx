import { Alert } from './alert.tsx';
import { useEffect, useState } from 'preact/hooks';
import type { Post } from '@parley/protocol';
import { describeError } from '../store/chat-store.ts';
import { useStore } from './context.ts';
import { useErrorAlert } from './use-error.ts';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Posts: write one (followers are notified), edit or delete yours, follow or unfollow authors; edits and deletions arrive live. */
export function FeedPage() {
  const { posts } = useStore();
  useEffect(() => {
    if (!posts.loaded.value) void posts.load();
  }, [posts]);
  return (
    <section class="page feed" aria-labelledby="page-title">
      <header class="page-header">
        <h2 id="page-title">Posts</h2>
      </header>
      <PostForm />
      <Alert message={posts.error.value} />
      <ul class="posts" aria-label="Posts, newest first">
        {posts.list.value.map((post) => (
          <PostItem key={post.id} post={post} />
        ))}
      </ul>
      {posts.loaded.value && posts.list.value.length === 0 && <p class="hint">No posts yet.</p>}
      {posts.hasMore.value && posts.loaded.value && (
        <button type="button" onClick={() => void posts.load(true)}>
          Older posts
        </button>
      )}
    </section>
  );
}

function PostForm({ post, onDone }: { post?: Post; onDone?: () => void }) {
  const { posts } = useStore();
  const [title, setTitle] = useState(post?.title ?? '');
  const [content, setContent] = useState(post?.content ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = post ? `edit-${post.id}` : 'new-post';

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (post) await posts.update(post.id, title, content);
      else await posts.create(title, content);
      setTitle('');
      setContent('');
      onDone?.();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="post-form" onSubmit={(e) => void submit(e)} aria-label={post ? 'Edit post' : 'Write a post'}>
      <label for={`${id}-title`}>Title (optional)</label>
      <input id={`${id}-title`} maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      <label for={`${id}-content`}>{post ? 'Post' : 'New post'}</label>
      <textarea
        id={`${id}-content`}
        required
        rows={3}
        maxLength={20_000}
        value={content}
        onInput={(e) => setContent(e.currentTarget.value)}
      />
      <Alert message={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !content.trim()}>
          {post ? 'Save' : 'Publish'}
        </button>
        {onDone && (
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function PostItem({ post }: { post: Post }) {
  const store = useStore();
  const [editing, setEditing] = useState(false);
  const { error, report: act } = useErrorAlert();
  const mine = post.authorId === store.me.id;
  const author = mine ? store.me.username : (store.nameOf(post.authorId) ?? `user ${post.authorId}`);
  const following = store.posts.following.value.has(post.authorId);

  return (
    <li class="post">
      <article aria-labelledby={`post-${post.id}`}>
        <header>
          <h3 id={`post-${post.id}`}>{post.title ?? `Post by ${author}`}</h3>
          <p class="meta">
            by <strong>{author}</strong> · <time dateTime={post.createdAt}>{when.format(new Date(post.createdAt))}</time>
            {post.updatedAt !== post.createdAt && ' · edited'}
          </p>
        </header>
        {editing ? <PostForm post={post} onDone={() => setEditing(false)} /> : <p class="content">{post.content}</p>}
        <Alert message={error} />
        <div class="actions">
          {mine ? (
            !editing && (
              <>
                <button type="button" class="small" onClick={() => setEditing(true)}>
                  Edit
                </button>
                <button
                  type="button"
                  class="small danger"
                  onClick={() => {
                    if (confirm('Delete this post?')) act(store.posts.remove(post.id));
                  }}
                >
                  Delete
                </button>
              </>
            )
          ) : (
            <button
              type="button"
              class="small"
              aria-pressed={following}
              onClick={() => act(store.posts.setFollowing(post.authorId, !following))}
            >
              {following ? `Unfollow ${author}` : `Follow ${author}`}
            </button>
          )}
        </div>
      </article>
    </li>
  );
}
