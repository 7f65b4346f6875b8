/**
 * Which socket carried a given request, learned from undici's own diagnostics channels, so that the
 * socket of an oversized response can be destroyed even after undici has finished the message and put
 * the socket back in its pool.
 *
 * `undici:request:create` is published synchronously inside `agent.request()`, so a tag set around
 * that call is attached to undici's request object; `undici:client:sendHeaders` then names the socket
 * it went out on. Everything is held in WeakMaps: nothing here outlives the requests and sockets.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';

let currentTag: object | undefined;
const tagOfRequest = new WeakMap<object, object>();
const socketOfTag = new WeakMap<object, Socket>();
/** The tag of the last request written on each socket: a socket reused since is not ours to destroy. */
const lastTagOfSocket = new WeakMap<Socket, object>();

subscribe('undici:request:create', (message) => {
  if (currentTag !== undefined) tagOfRequest.set((message as { request: object }).request, currentTag);
});

subscribe('undici:client:sendHeaders', (message) => {
  const { request, socket } = message as { request: object; socket: Socket };
  const tag = tagOfRequest.get(request);
  if (tag === undefined) {
    lastTagOfSocket.delete(socket);
    return;
  }
  socketOfTag.set(tag, socket);
  lastTagOfSocket.set(socket, tag);
});

/** `agent.request(options)`, remembering which socket the request goes out on under `tag`. */
export function requestTagged(agent: Dispatcher, options: Dispatcher.RequestOptions, tag: object): Promise<Dispatcher.ResponseData> {
  currentTag = tag;
  try {
    return agent.request(options);
  } finally {
    currentTag = undefined;
  }
}

/** Destroys the socket that carried the tagged request, unless another request has used it since. */
export function destroySocketOf(tag: object): void {
  const socket = socketOfTag.get(tag);
  if (socket !== undefined && lastTagOfSocket.get(socket) === tag) socket.destroy();
}
