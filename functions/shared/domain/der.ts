/**
 * The little DER that an SVID's CSR and the software CA's leaf certificates need, assembled and taken apart by
 * hand: @peculiar/x509's generic ASN.1 path costs about 4 ms per certificate and 0.6 ms per CSR, too slow for
 * rotations of tens of thousands.
 */
import { getRandomValues } from 'node:crypto';

export const INTEGER = 0x02;
export const BIT_STRING = 0x03;
export const OCTET_STRING = 0x04;
export const SEQUENCE = 0x30;

/** One DER TLV; lengths up to 64 KiB are all a certificate needs. */
export function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  if (n > 0xffff) throw new RangeError('DER value too long');
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

export function extension(oid: Buffer, value: Buffer): Buffer {
  return der(SEQUENCE, oid, der(OCTET_STRING, value));
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050, always whole seconds in UTC. */
export function derTime(date: Date): Buffer {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = date.getUTCFullYear();
  return year < 2050
    ? der(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : der(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

export function content(tlv: Buffer): Buffer {
  const { contentStart, end } = readTlv(tlv, 0);
  return tlv.subarray(contentStart, end);
}

/** The TLVs directly inside a constructed TLV, each with its own header. */
export function children(tlv: Buffer): Buffer[] {
  const { contentStart, end } = readTlv(tlv, 0);
  const items: Buffer[] = [];
  for (let at = contentStart; at < end;) {
    const next = readTlv(tlv, at).end;
    if (next > end) throw new Error('DER child overruns its parent');
    items.push(tlv.subarray(at, next));
    at = next;
  }
  return items;
}

/** 128 random bits as a positive DER INTEGER: top bit clear, first byte non-zero so the encoding stays minimal. */
export function randomSerial(): Buffer {
  const bytes = Buffer.from(getRandomValues(new Uint8Array(16)));
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes;
}

/** Reads the TLV at `offset`: where its content starts and where it ends. */
function readTlv(buffer: Buffer, offset: number): { contentStart: number; end: number } {
  const first = buffer[offset + 1];
  if (first === undefined) throw new Error('truncated DER');
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets < 1 || octets > 3) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (buffer[contentStart++] ?? Number.NaN);
  }
  const end = contentStart + length;
  if (!(end <= buffer.length)) throw new Error('truncated DER');
  return { contentStart, end };
}
