// A certificate subject as Kafka prints it: Java's X500Principal.getName() (RFC 2253), most
// specific RDN first ("CN=alice,OU=eng,O=Acme\, Inc.,C=US"). Attribute types RFC 2253 names
// (CN, C, L, ST, O, OU, STREET, DC, UID) are kept; any other becomes its dotted OID with the
// value as `#` and its DER encoding, as Java writes it (emailAddress as IA5String, the rest as
// UTF8String, OpenSSL's default).
import { X509Certificate } from 'node:crypto';

const RFC2253_KEYWORDS = new Set(['CN', 'C', 'L', 'ST', 'O', 'OU', 'STREET', 'DC', 'UID']);
const OIDS: Record<string, { oid: string; tag: number }> = {
  emailAddress: { oid: '1.2.840.113549.1.9.1', tag: 0x16 },
  serialNumber: { oid: '2.5.4.5', tag: 0x13 },
  title: { oid: '2.5.4.12', tag: 0x0c },
  SN: { oid: '2.5.4.4', tag: 0x0c },
  GN: { oid: '2.5.4.42', tag: 0x0c },
  initials: { oid: '2.5.4.43', tag: 0x0c },
  pseudonym: { oid: '2.5.4.65', tag: 0x0c },
  generationQualifier: { oid: '2.5.4.44', tag: 0x0c },
  dnQualifier: { oid: '2.5.4.46', tag: 0x13 },
  postalCode: { oid: '2.5.4.17', tag: 0x0c },
};

/** Splits Node's one-RDN-per-line subject, undoing its backslash escapes. */
function parseNodeSubject(subject: string): [type: string, value: string][] {
  const out: [string, string][] = [];
  for (const line of subject.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out.push([line.slice(0, eq), line.slice(eq + 1).replace(/\\(.)/g, '$1')]);
  }
  return out;
}

export function escapeRfc2253(value: string): string {
  let v = value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`);
  if (v.startsWith('#') || v.startsWith(' ')) v = `\\${v}`;
  if (v.endsWith(' ') && v.length > 1) v = `${v.slice(0, -1)}\\ `;
  return v;
}

function derHex(tag: number, value: string): string {
  const body = Buffer.from(value, tag === 0x0c ? 'utf8' : 'latin1');
  const len = body.length < 0x80 ? Buffer.from([body.length]) : body.length < 0x100 ? Buffer.from([0x81, body.length]) : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]).toString('hex');
}

/** RFC 2253 form of a subject in Node's format (X509Certificate.subject). */
export function rfc2253FromNodeSubject(subject: string): string {
  return parseNodeSubject(subject)
    .reverse()
    .map(([type, value]) => {
      if (RFC2253_KEYWORDS.has(type)) return `${type}=${escapeRfc2253(value)}`;
      const known = OIDS[type];
      if (known) return `${known.oid}=#${derHex(known.tag, value)}`;
      return `${type}=${escapeRfc2253(value)}`;
    })
    .join(',');
}

/** The subject of a DER certificate as Kafka prints it. */
export function subjectOf(der: Buffer): string {
  return rfc2253FromNodeSubject(new X509Certificate(der).subject);
}
