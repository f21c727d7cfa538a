/** Work-arounds for defects of the embedded engines (local/engine-fixes.mjs). */
export declare function applyEngineFixes(): void;
/** s3rver's 'error' listener: logs the cause of a 500 (a fault of the engine, not an S3 answer). */
export declare function logEngineFault(
  err: { status?: number; code?: string; syscall?: string; name?: string; message?: string } | undefined,
  ctx?: { method?: string; path?: string },
): void;
