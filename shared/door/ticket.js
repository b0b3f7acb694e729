// EVR1 tickets, checked on the device (the format: shared/src/tickets.rs). A payload is
// `EVR1.` + unpadded base64url of event_id(16) ‖ registration_id(16) ‖ nonce(8) ‖
// signature(64); the Ed25519 signature covers 0x01 ‖ event_id ‖ registration_id ‖ nonce.
// The signature is verified with WebCrypto's Ed25519 (Chromium 137+, Firefox 129+,
// Safari 17+): no library, nothing to vendor, and the browser's own constant-time code.

const PREFIX = 'EVR1.';
const VERSION = 1;
const SIGNED_LENGTH = 16 + 16 + 8;
const PAYLOAD_LENGTH = SIGNED_LENGTH + 64;

/** Unpadded base64url (RFC 4648 §5) to bytes; null when `text` is not that. Written out
 * because Uint8Array.fromBase64 is not in every browser the app supports yet. */
export function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** 16 bytes as a UUID's text (RFC 9562), as the API writes ids. */
function uuid(bytes) {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The ticket in a scanned text: {text, eventId, registrationId, message, signature},
 * or null when it is not an EVR1 ticket. */
export function parseTicket(scanned) {
  const text = String(scanned).trim();
  if (!text.startsWith(PREFIX)) return null;
  const bytes = fromBase64Url(text.slice(PREFIX.length));
  if (!bytes || bytes.length !== PAYLOAD_LENGTH) return null;
  const message = new Uint8Array(1 + SIGNED_LENGTH);
  message[0] = VERSION;
  message.set(bytes.subarray(0, SIGNED_LENGTH), 1);
  return {
    text,
    eventId: uuid(bytes.subarray(0, 16)),
    registrationId: uuid(bytes.subarray(16, 32)),
    message,
    signature: bytes.slice(SIGNED_LENGTH),
  };
}

/** The event's public key (unpadded base64url of 32 bytes, GET /events/{id}/ticket-key)
 * as a WebCrypto verifying key. */
export function importTicketKey(publicKey) {
  const raw = fromBase64Url(publicKey);
  if (!raw || raw.length !== 32) throw new Error('the ticket key is not 32 bytes of base64url');
  return crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
}

/**
 * What the door says about `scanned`, offline: {valid: true, ticket} or
 * {valid: false, reason, ticket?, firstAt?}. `door` holds the event's id, its verifying
 * `key`, whether it is `cancelled`, the `revoked` registration ids (a Set) and `scannedAt`
 * (a Map from registration id to the first scan's ISO time on this device).
 */
export async function judge(scanned, door) {
  const ticket = parseTicket(scanned);
  if (!ticket) return { valid: false, reason: 'Not an evreg ticket' };
  if (ticket.eventId !== door.eventId) {
    return { valid: false, ticket, reason: 'Ticket for another event' };
  }
  const genuine = await crypto.subtle.verify({ name: 'Ed25519' }, door.key, ticket.signature, ticket.message);
  if (!genuine) return { valid: false, ticket, reason: 'Forged ticket (bad signature)' };
  if (door.cancelled) return { valid: false, ticket, reason: 'The event is cancelled' };
  if (door.revoked.has(ticket.registrationId)) {
    return { valid: false, ticket, reason: 'Registration cancelled' };
  }
  const firstAt = door.scannedAt.get(ticket.registrationId);
  if (firstAt) return { valid: false, ticket, reason: 'Already scanned', firstAt };
  return { valid: true, ticket };
}
