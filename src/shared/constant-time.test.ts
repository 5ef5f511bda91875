import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './constant-time.js';

describe('constantTimeEqual', () => {
  it.each([
    ['token-abc', 'token-abc', true],
    ['token-abc', 'token-abd', false],
    ['token-abc', 'token-ab', false],
    ['', '', true],
    ['', 'x', false],
    ['ü', 'u', false],
    ['Bearer x', 'Bearer x', true],
  ])('%j vs %j → %s', (a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
  });
});
