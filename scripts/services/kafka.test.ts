import { describe, expect, it } from 'vitest';
import { kafkaClusterId } from './kafka.ts';

describe('kafkaClusterId', () => {
  it("is 22 URL-safe base64 characters and never starts with '-' (StorageTool would read it as an option)", () => {
    // One id in 64 would start with '-' without the check: 5,000 draws make that certain to be seen.
    const ids = Array.from({ length: 5_000 }, kafkaClusterId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
