import type {
  AdminClientToServer,
  AdminServerToClient,
  MainClientToServer,
  MainServerToClient,
  NotificationsClientToServer,
  NotificationsServerToClient,
  UserClientToServer,
  UserServerToClient,
} from './events.ts';

/** Every key of T, listed once: the compiler fails when an event is added to or removed from a map. */
const names = <T>(all: Record<keyof T, true>) => Object.keys(all) as (keyof T & string)[];

/**
 * The event names of each namespace at run time (the event maps are types only): for tools
 * written in plain JavaScript, such as the k6 scripts, and the checks that keep them to the contract.
 */
export const EVENT_NAMES = {
  '/': {
    clientToServer: names<MainClientToServer>({
      message: true, join: true, chatMessage: true, joinRoom: true, leaveRoom: true,
      privateMessage: true, typing: true, stopTyping: true, sync: true,
    }),
    serverToClient: names<MainServerToClient>({
      response: true, newMessage: true, broadcast: true, message: true, roomUsers: true, userJoined: true,
      privateMessage: true, typing: true, stopTyping: true, postUpdated: true, postDeleted: true,
      announcement: true, serverShutdown: true, error: true,
    }),
  },
  '/user': {
    clientToServer: names<UserClientToServer>({ whoami: true }),
    serverToClient: names<UserServerToClient>({ error: true }),
  },
  '/notifications': {
    clientToServer: names<NotificationsClientToServer>({ markRead: true }),
    serverToClient: names<NotificationsServerToClient>({ notification: true, error: true }),
  },
  '/admin': {
    clientToServer: names<AdminClientToServer>({ announce: true, stats: true, disconnectUser: true }),
    serverToClient: names<AdminServerToClient>({ error: true }),
  },
} as const;
