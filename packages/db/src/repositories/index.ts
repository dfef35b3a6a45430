import type { Database } from '../database.ts';
import { FanoutRepository } from './fanout.ts';
import { FollowRepository } from './follows.ts';
import { MessageRepository } from './messages.ts';
import { NotificationRepository } from './notifications.ts';
import { PostRepository } from './posts.ts';
import { ReadStateRepository } from './read-state.ts';
import { UserRepository } from './users.ts';

/** Every repository over one database. */
export interface Repositories {
  users: UserRepository;
  messages: MessageRepository;
  posts: PostRepository;
  follows: FollowRepository;
  notifications: NotificationRepository;
  fanout: FanoutRepository;
  readState: ReadStateRepository;
}

export function createRepositories(db: Pick<Database, 'prisma' | 'sql'>): Repositories {
  return {
    users: new UserRepository(db.prisma),
    messages: new MessageRepository(db.prisma, db.sql),
    posts: new PostRepository(db.prisma, db.sql),
    follows: new FollowRepository(db.prisma, db.sql),
    notifications: new NotificationRepository(db.sql),
    fanout: new FanoutRepository(db.sql),
    readState: new ReadStateRepository(db.sql),
  };
}
