// The wire, through libpcap (`cap`, docs/LIBRARIES.md): open a device with a BPF filter, get each frame
// as soon as it is seen (cap sets immediate mode), send raw frames. Root or CAP_NET_RAW only.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  setMinBytes?(n: number): void;
  on(event: 'packet', cb: (nbytes: number, truncated: boolean) => void): void;
  send(buf: Buffer, len?: number): void;
  close(): void;
}

export interface CapModule {
  Cap: (new () => CapHandle) & { findDevice(ip?: string): string | undefined };
}

export interface Tap {
  device: string;
  linkType: string;
  send(frame: Buffer): void;
  close(): void;
}

/** The cap module, or why it cannot be loaded (not installed, libpcap missing). */
export function loadCap(): { cap: CapModule } | { error: string } {
  try {
    return { cap: createRequire(import.meta.url)('cap') as CapModule };
  } catch (err) {
    return { error: `the cap module (libpcap) is not available: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** The device that carries an address (docker: the home interface), or lo for loopback addresses. */
export function deviceFor(cap: CapModule, address: string): string | undefined {
  if (address.startsWith('127.')) return 'lo';
  return cap.Cap.findDevice(address);
}

/** Opens a device; `onFrame` gets a buffer that is reused for the next frame (copy what you keep). */
export function openTap(
  cap: CapModule,
  device: string,
  filter: string,
  onFrame: (buf: Buffer, nbytes: number, truncated: boolean) => void,
): Tap {
  const c = new cap.Cap();
  const buffer = Buffer.alloc(65_535);
  const linkType = c.open(device, filter, 8 << 20, buffer);
  c.setMinBytes?.(0);
  c.on('packet', (nbytes, truncated) => onFrame(buffer, nbytes, truncated));
  return {
    device,
    linkType,
    send: (frame) => c.send(frame, frame.length),
    close: () => c.close(),
  };
}

/**
 * Linux drops 127/8 sources arriving on lo from outside its own output path (martian source): an
 * injected IPv4 frame needs route_localnet on lo, and accept_local too once the machine has ever had
 * a custom local route (fib_has_custom_local_routes then forces the full source check). Both are
 * turned on and left on: every lab on this machine shares lo, and putting the old values back when
 * one injector stops would silently break another one still running (two labs, or tests in
 * parallel). On lo they change nothing else: only this machine's own packets arrive there.
 */
export function allowLoopbackSources(): void {
  for (const knob of ['route_localnet', 'accept_local']) {
    const path = `/proc/sys/net/ipv4/conf/lo/${knob}`;
    try {
      if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1');
    } catch {
      // no /proc/sys to write (not root): injection on lo will not reach sockets, and says so
    }
  }
}
