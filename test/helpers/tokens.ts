import { randomBytes } from "node:crypto";

let next = 700_000_000;

/** A fresh, well-formed bot token (unique bot id per call, so tests never share a bot or a lock). */
export function makeToken(): string {
  next += 1 + Math.floor(Math.random() * 1000);
  return `${next}:${randomBytes(26).toString("base64url").slice(0, 35)}`;
}

/** The part of a token that must never be printed. */
export function secretOf(token: string): string {
  return token.slice(token.indexOf(":") + 1);
}
