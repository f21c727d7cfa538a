/** Placeholder until the synthetic LA lands: no demo is loaded. */
import type { LocalRuntime } from './runtime.js';
export async function loadDemoIfEmpty(_runtime: LocalRuntime): Promise<{ sampleUrn: string; summary: string } | undefined> {
  return undefined;
}
