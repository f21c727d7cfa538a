import { runVariedEvaluation, pooled } from './local/evaluation/varied-evaluation.js';
import { patternSettings } from './shared/domain/patterns/index.js';
for (const a of process.argv[2].split(',').map(Number)) {
  const e = runVariedEvaluation({ settings: patternSettings(undefined, { holidayAdjacent: { fittedAlpha: a } }), seeds: (process.argv[3] ?? 'varied-1,varied-2,varied-3').split(',') });
  const rows = pooled(e.scores).filter((s) => s.flag === 'holiday_adjacent_absence' || s.flag === 'family_pattern');
  console.log(a, rows.map((s) => `${s.date.slice(5)} ${s.flag.slice(0, 6)} ${s.tp}/${s.fp}/${s.fn}/c${s.controls}`).join(' | '));
}
