// ESM entry: the same objects as the CommonJS entry, as named exports.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const wm = require('./index.js');

export const {
  MessageChannel,
  MessagePort,
  MessageEvent,
  receiveMessageOnPort,
  exportPort,
  importPort,
  setLinger,
  BroadcastChannel,
  Window,
  spawn,
  parentPort,
  listen,
  connect,
  exportFd,
  importFd,
  Listener,
} = wm;
export default wm;
