export { openDatabase, MIGRATIONS_DIR, type Database, type DatabaseOptions, type Prisma } from './database.ts';
export { migrate, readMigrations, MigrationError, type Migration, type MigrationReport } from './migrator.ts';
export type { SqlClient, SqlSession } from './sql.ts';
export { UserRepository, type Account, type UserRecord } from './repositories/users.ts';
export {
  MessageRepository,
  type NewRoomMessage,
  type NewPrivateMessage,
  type StoredMessage,
  type SyncCursor,
} from './repositories/messages.ts';
export { PostRepository, type NewPost, type PostChanges } from './repositories/posts.ts';
export { FollowRepository } from './repositories/follows.ts';
export { NotificationRepository, type NewNotification, type NotificationDelivery } from './repositories/notifications.ts';
export { FanoutRepository } from './repositories/fanout.ts';
export { ReadStateRepository, type CursorMove, type RoomEntry } from './repositories/read-state.ts';
export { createRepositories, type Repositories } from './repositories/index.ts';
