// RFC 1035 §5 master files: $ORIGIN, $TTL, @, relative names, blank owners, ( … ) across lines,
// ; comments, quoted strings. Records come out as dns-packet answers, ready to encode.
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer } from '../common/dns/codec.js';
import type { SoaData } from '../common/dns/record-text.js';

export const SUPPORTED_TYPES = ['SOA', 'NS', 'A', 'AAAA', 'CNAME', 'MX', 'TXT', 'CAA', 'SRV', 'PTR'] as const;
export type RecordType = (typeof SUPPORTED_TYPES)[number];

export class ZoneSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export interface ParsedZone {
  origin: string;
  records: Answer[];
}

/** Splits into tokens, keeping quoted strings, dropping comments, joining ( … ) groups into one logical line. */
function logicalLines(text: string): { line: number; tokens: string[]; startsWithSpace: boolean }[] {
  const out: { line: number; tokens: string[]; startsWithSpace: boolean }[] = [];
  let depth = 0;
  let current: { line: number; tokens: string[]; startsWithSpace: boolean } | undefined;
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    if (!current) current = { line: lineNo, tokens: [], startsWithSpace: /^[ \t]/.test(raw) };
    let j = 0;
    while (j < raw.length) {
      const c = raw[j];
      if (c === ';') break;
      if (c === ' ' || c === '\t' || c === '\r') {
        j++;
        continue;
      }
      if (c === '(') {
        depth++;
        j++;
        continue;
      }
      if (c === ')') {
        if (depth === 0) throw new ZoneSyntaxError('")" without "("', lineNo);
        depth--;
        j++;
        continue;
      }
      if (c === '"') {
        let k = j + 1;
        let s = '';
        while (k < raw.length && raw[k] !== '"') {
          if (raw[k] === '\\' && k + 1 < raw.length) k++;
          s += raw[k];
          k++;
        }
        if (k >= raw.length) throw new ZoneSyntaxError('unterminated quoted string', lineNo);
        current.tokens.push(`"${s}`);
        j = k + 1;
        continue;
      }
      let k = j;
      while (k < raw.length && !' \t\r;()"'.includes(raw[k])) k++;
      current.tokens.push(raw.slice(j, k));
      j = k;
    }
    if (depth === 0) {
      if (current.tokens.length) out.push(current);
      current = undefined;
    }
  });
  if (depth !== 0) throw new ZoneSyntaxError('"(" is never closed', current?.line ?? 0);
  return out;
}

function absolute(name: string, origin: string, line: number): string {
  if (name === '@') return origin;
  if (!/^[A-Za-z0-9_*.-]+$/.test(name) && name !== '.')
    throw new ZoneSyntaxError(`"${name}" is not a domain name`, line);
  if (name.endsWith('.')) return name === '.' ? '' : name.slice(0, -1);
  return origin ? `${name}.${origin}` : name;
}

const TTL_RE = /^\d+[smhdw]?$/i;

function parseTtl(t: string, line: number): number {
  const m = /^(\d+)([smhdw]?)$/i.exec(t);
  if (!m) throw new ZoneSyntaxError(`"${t}" is not a TTL`, line);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2].toLowerCase()] as number;
  const v = Number(m[1]) * unit;
  if (v > 2 ** 31 - 1) throw new ZoneSyntaxError(`TTL ${t} is too large`, line);
  return v;
}

function num(t: string | undefined, what: string, line: number, max = 65535): number {
  if (t === undefined || !/^\d+$/.test(t) || Number(t) > max)
    throw new ZoneSyntaxError(`${what} must be a number up to ${max}, not "${t}"`, line);
  return Number(t);
}

function rdata(type: RecordType, rd: string[], origin: string, line: number): unknown {
  const need = (n: number) => {
    if (rd.length !== n) throw new ZoneSyntaxError(`${type} takes ${n} value(s), got ${rd.length}`, line);
  };
  const name = (t: string) => absolute(t, origin, line);
  switch (type) {
    case 'A':
      need(1);
      if (!isIPv4(rd[0])) throw new ZoneSyntaxError(`"${rd[0]}" is not an IPv4 address`, line);
      return rd[0];
    case 'AAAA':
      need(1);
      if (!isIPv6(rd[0])) throw new ZoneSyntaxError(`"${rd[0]}" is not an IPv6 address`, line);
      return rd[0];
    case 'NS':
    case 'CNAME':
    case 'PTR':
      need(1);
      return name(rd[0]);
    case 'MX':
      need(2);
      return { preference: num(rd[0], 'MX preference', line), exchange: name(rd[1]) };
    case 'SRV':
      need(4);
      return {
        priority: num(rd[0], 'SRV priority', line),
        weight: num(rd[1], 'SRV weight', line),
        port: num(rd[2], 'SRV port', line),
        target: name(rd[3]),
      };
    case 'TXT': {
      if (rd.length === 0) throw new ZoneSyntaxError('TXT needs at least one string', line);
      const parts = rd.map((t) => Buffer.from(t.startsWith('"') ? t.slice(1) : t, 'utf8'));
      if (parts.some((p) => p.length > 255))
        throw new ZoneSyntaxError('a TXT string is at most 255 bytes', line);
      return parts;
    }
    case 'CAA': {
      need(3);
      const tag = rd[1];
      if (!['issue', 'issuewild', 'iodef'].includes(tag))
        throw new ZoneSyntaxError(`CAA tag "${tag}" is not issue, issuewild or iodef`, line);
      return { flags: num(rd[0], 'CAA flags', line, 255), tag, value: rd[2].replace(/^"/, '') };
    }
    case 'SOA':
      need(7);
      return {
        mname: name(rd[0]),
        rname: name(rd[1]),
        serial: num(rd[2], 'SOA serial', line, 2 ** 32 - 1),
        refresh: parseTtl(rd[3], line),
        retry: parseTtl(rd[4], line),
        expire: parseTtl(rd[5], line),
        minimum: parseTtl(rd[6], line),
      };
  }
}

/** Parses a master file. `origin` is used until a $ORIGIN line; names come out without the final dot. */
export function parseZone(text: string, opts: { origin: string; defaultTtl?: number }): ParsedZone {
  let origin = absolute(opts.origin.endsWith('.') ? opts.origin : `${opts.origin}.`, '', 0);
  let ttl = opts.defaultTtl;
  let lastOwner: string | undefined;
  let lastTtl: number | undefined;
  const records: Answer[] = [];
  const zoneOrigin = origin;
  for (const l of logicalLines(text)) {
    const t = [...l.tokens];
    if (t[0] === '$ORIGIN') {
      if (t.length !== 2) throw new ZoneSyntaxError('$ORIGIN takes one name', l.line);
      origin = absolute(t[1], origin, l.line);
      continue;
    }
    if (t[0] === '$TTL') {
      if (t.length !== 2) throw new ZoneSyntaxError('$TTL takes one value', l.line);
      ttl = parseTtl(t[1], l.line);
      continue;
    }
    if (t[0]?.startsWith('$')) throw new ZoneSyntaxError(`${t[0]} is not supported here`, l.line);
    let owner: string;
    if (l.startsWithSpace) {
      if (lastOwner === undefined)
        throw new ZoneSyntaxError('a record with no owner name comes first', l.line);
      owner = lastOwner;
    } else {
      owner = absolute(t.shift() as string, origin, l.line);
    }
    let recTtl: number | undefined;
    // [TTL] [class] or [class] [TTL], in either order (RFC 1035 §5.1)
    for (let k = 0; k < 2; k++) {
      if (t[0] && TTL_RE.test(t[0]) && recTtl === undefined) recTtl = parseTtl(t.shift() as string, l.line);
      else if (t[0]?.toUpperCase() === 'IN') t.shift();
      else if (t[0] && ['CH', 'HS', 'CS'].includes(t[0].toUpperCase()))
        throw new ZoneSyntaxError('only class IN is served', l.line);
    }
    const type = t.shift()?.toUpperCase() as RecordType | undefined;
    if (!type || !SUPPORTED_TYPES.includes(type)) {
      throw new ZoneSyntaxError(
        `record type "${type ?? ''}" is not one of ${SUPPORTED_TYPES.join(', ')}`,
        l.line,
      );
    }
    const data = rdata(type, t, origin, l.line);
    if (type === 'SOA' && ttl === undefined) ttl = (data as { minimum: number }).minimum;
    const finalTtl = recTtl ?? ttl ?? lastTtl;
    if (finalTtl === undefined) throw new ZoneSyntaxError('no TTL: add $TTL or a TTL on the record', l.line);
    if (owner !== zoneOrigin && !owner.endsWith(`.${zoneOrigin}`) && zoneOrigin !== '') {
      throw new ZoneSyntaxError(`${owner || '.'} is outside the zone ${zoneOrigin || '.'}`, l.line);
    }
    records.push({ name: owner, type, ttl: finalTtl, class: 'IN', data } as Answer);
    lastOwner = owner;
    lastTtl = finalTtl;
  }
  return { origin: zoneOrigin, records };
}

function quoteTxt(b: Buffer | string): string {
  return `"${b.toString().replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function fqdn(n: string): string {
  return `${n}.`.replace(/^\.$/, '.');
}

/** Writes records back as a master file (one record a line, absolute names), valid for named-checkzone. */
export function formatZone(origin: string, records: Answer[]): string {
  const lines = [`$ORIGIN ${fqdn(origin)}`];
  for (const r of records) {
    const d = (r as { data: unknown }).data;
    let text: string;
    switch (r.type) {
      case 'SOA': {
        const s = d as SoaData;
        text = `${fqdn(s.mname)} ${fqdn(s.rname)} ( ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum} )`;
        break;
      }
      case 'MX': {
        const m = d as { preference: number; exchange: string };
        text = `${m.preference} ${fqdn(m.exchange)}`;
        break;
      }
      case 'SRV': {
        const s = d as { priority: number; weight: number; port: number; target: string };
        text = `${s.priority} ${s.weight} ${s.port} ${fqdn(s.target)}`;
        break;
      }
      case 'TXT':
        text = (d as Buffer[]).map(quoteTxt).join(' ');
        break;
      case 'CAA': {
        const c = d as { flags: number; tag: string; value: string };
        text = `${c.flags} ${c.tag} ${quoteTxt(c.value)}`;
        break;
      }
      case 'NS':
      case 'CNAME':
      case 'PTR':
        text = fqdn(d as string);
        break;
      default:
        text = String(d);
    }
    lines.push(`${fqdn(r.name)} ${(r as { ttl: number }).ttl} IN ${r.type} ${text}`);
  }
  return `${lines.join('\n')}\n`;
}
