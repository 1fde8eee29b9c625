// Type-checked with `tsc --strict` by tsc.test.js: the package's types are its own (events carry
// our MessagePort / Window, not the DOM's or Node's), and the extras are typed.
import {
  MessageChannel, MessagePort, MessageEvent, BroadcastChannel, Window, exportPort, importPort,
  receiveMessageOnPort, MessagePortCloseEvent, PortMetrics, spawn, parentPort, listen, connect,
  exportFd, importFd, Listener, ConnectEvent, IpcError, SpawnedChild,
} from 'webmessaging';
import type { ChildProcess } from 'node:child_process';

const { port1, port2 } = new MessageChannel();
port2.onmessage = (ev: MessageEvent) => {
  const reply: MessagePort = ev.ports[0];
  reply.postMessage({ ok: true });
  const src: MessagePort | Window | null = ev.source;
  if (src instanceof Window) src.postMessage('back', '*', undefined, src);
};
port2.addEventListener('message', (ev) => {
  const p: MessagePort | undefined = ev.ports[0];
  p?.close();
});
port1.on('close', (ev: MessagePortCloseEvent) => {
  const why: 'closed' | 'dropped' | 'doomed' | 'lost' | 'transferred' = ev.reason;
  const peer: boolean = ev.byPeer;
  void why; void peer;
});
const inner = new MessageChannel();
port1.postMessage({ port: inner.port1 }, [inner.port1]);
port1.postMessage('x', { transfer: [new ArrayBuffer(1)] });
port2.setCapacity({ maxMessages: 10, maxBytes: null });
const sent: boolean = port1.tryPost('y');
const later: Promise<void> = port1.postWithTimeout('z', 100);
const m: PortMetrics = port2.metrics();
const depth: number = m.depth;
const got: { message: any } | undefined = receiveMessageOnPort(port2);
const ev = new MessageEvent('message', { data: 1, source: port1, ports: [port2] });
const first: MessagePort = ev.ports[0];
const bc: BroadcastChannel = new BroadcastChannel('n').unref();
bc.onmessage = (e: MessageEvent) => { void e.data; };
const w = new Window('https://a.test');
w.postMessage('hi');
w.postMessage('hi', { targetOrigin: '*' });
const token = exportPort(inner.port2);
const again: MessagePort = importPort(token);
void sent; void later; void depth; void got; void first; void again;

// Across processes.
const spawned: SpawnedChild = spawn('node', ['child.js'], { stdio: 'inherit', env: { A: '1' } });
const proc: ChildProcess = spawned.child;
const viaOptions: MessagePort = spawn('node', { cwd: '/' }).port;
const up: MessagePort | null = parentPort();
const server: Listener = listen('/tmp/x.sock').unref().ref();
const where: string = server.path;
server.on('connect', (e: ConnectEvent) => {
  const client: MessagePort = e.ports[0];
  client.postMessage('welcome');
});
server.on('error', (e: IpcError) => {
  const code: string = e.code;
  void code;
});
server.close();
const client: Promise<MessagePort> = connect('/tmp/x.sock', { timeout: 1000 });
const fd: number = exportFd(port1);
const back: MessagePort = importFd(fd);
void proc; void viaOptions; void up; void where; void client; void back;
