/**
 * The web app keeps its own copy of the DfE code table (it is a client of the public API only and
 * imports no shared code: docs/web.md); this keeps the copy equal to the service's, code by code.
 */
import { describe, expect, it } from 'vitest';
import { ALL_CODES, categoryOf as serviceCategory } from '../../../shared/domain/codes.js';
import { categoryOf as webCategory } from '../../../web/src/codes.js';

describe("the web app's code table", () => {
  it('gives every DfE code the category the service gives it', () => {
    expect(ALL_CODES.length).toBeGreaterThan(30);
    expect(ALL_CODES.map((code) => [code, webCategory(code)])).toEqual(
      ALL_CODES.map((code) => [code, serviceCategory(code)]),
    );
  });

  it('knows no code the service does not', () => {
    for (const code of ['A', 'y1', '', '-', '.', 'ZZ']) expect([code, webCategory(code)]).toEqual([code, undefined]);
  });
});
