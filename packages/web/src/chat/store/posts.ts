import { signal } from '@preact/signals';
import type { Post } from '@parley/protocol';
import { api } from '../api.ts';

const PAGE = 20;

/** The posts page: newest first, paged back; whom the user follows; live edits and deletions. */
export class PostsState {
  readonly list = signal<Post[]>([]);
  readonly hasMore = signal(true);
  readonly loaded = signal(false);
  readonly following = signal<ReadonlySet<number>>(new Set());
  readonly error = signal<string | null>(null);

  constructor(
    private readonly token: () => string,
    private readonly userId: number,
  ) {}

  async load(more = false): Promise<void> {
    try {
      const before = more ? this.list.value.at(-1)?.id : undefined;
      const [{ posts }] = await Promise.all([
        api('listPosts', { query: { limit: PAGE, ...(before ? { before } : {}) } }),
        more ? undefined : this.loadFollowing(),
      ]);
      this.list.value = more ? [...this.list.value, ...posts.filter((p) => !this.list.value.some((q) => q.id === p.id))] : posts;
      this.hasMore.value = posts.length === PAGE;
      this.loaded.value = true;
      this.error.value = null;
    } catch (err) {
      this.error.value = (err as Error).message;
    }
  }

  async create(title: string, content: string): Promise<void> {
    const post = await api('createPost', { token: this.token(), body: { content, ...(title.trim() ? { title } : {}) } });
    this.added(post);
  }

  async update(id: number, title: string, content: string): Promise<void> {
    this.updated(await api('updatePost', { token: this.token(), params: { id }, body: { title: title.trim() ? title : null, content } }));
  }

  async remove(id: number): Promise<void> {
    await api('deletePost', { token: this.token(), params: { id } });
    this.deleted(id);
  }

  async setFollowing(authorId: number, follow: boolean): Promise<void> {
    await api(follow ? 'follow' : 'unfollow', { token: this.token(), params: { id: authorId } });
    const next = new Set(this.following.value);
    if (follow) next.add(authorId);
    else next.delete(authorId);
    this.following.value = next;
  }

  /** A new post: shown at the top once the page is loaded. */
  added(post: Post): void {
    if (!this.loaded.value || this.list.value.some((p) => p.id === post.id)) return;
    this.list.value = [post, ...this.list.value];
  }

  updated(post: Post): void {
    this.list.value = this.list.value.map((p) => (p.id === post.id ? post : p));
  }

  deleted(id: number): void {
    this.list.value = this.list.value.filter((p) => p.id !== id);
  }

  private async loadFollowing(): Promise<void> {
    const ids = new Set<number>();
    for (let after = 0; ;) {
      const { users } = await api('following', { params: { id: this.userId }, query: { after, limit: 100 } });
      for (const u of users) ids.add(u.id);
      if (users.length < 100) break;
      after = users.at(-1)!.id;
    }
    this.following.value = ids;
  }
}
