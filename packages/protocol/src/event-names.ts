import { EVENTS, type Inbound, type NamespaceName, type Outbound } from './events.ts';

type Names<N extends NamespaceName> = {
  clientToServer: (keyof Inbound<N> & string)[];
  serverToClient: (keyof Outbound<N> & string)[];
};

function namesOf<N extends NamespaceName>(namespace: N): Names<N> {
  return {
    clientToServer: Object.keys(EVENTS[namespace].inbound) as (keyof Inbound<N> & string)[],
    serverToClient: Object.keys(EVENTS[namespace].outbound) as (keyof Outbound<N> & string)[],
  };
}

/**
 * The event names of each namespace at run time, from the event map: for tools written in
 * plain JavaScript, such as the k6 scripts, and the checks that keep them to the contract.
 */
export const EVENT_NAMES: { [N in NamespaceName]: Names<N> } = {
  '/': namesOf('/'),
  '/user': namesOf('/user'),
  '/notifications': namesOf('/notifications'),
  '/admin': namesOf('/admin'),
};
