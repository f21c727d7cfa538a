import { generateVariedLa } from './local/evaluation/varied-la.js';
import { detectAsOf, pupilTruth, claimsHoliday } from './local/evaluation/varied-evaluation.js';
import { analysisWindow } from './shared/domain/patterns/index.js';
for (const seed of ['varied-1', 'varied-2', 'varied-3']) {
  const la = generateVariedLa({ seed, schools: 24, pupils: 8000 });
  const planted = new Set(la.behaviours.flatMap((b) => [...b.upns, ...b.planted.keys()]));
  for (const date of ['2026-01-31', '2026-02-28', '2026-04-30', '2026-07-21']) {
    const w = analysisWindow({ from: '2025-08-01', to: date }, 12);
    const truth = pupilTruth(la, date, w.from);
    const res = detectAsOf(la, date);
    for (const f of res.findings as any[]) {
      if (f.type !== 'holiday_adjacent_absence') continue;
      const claimed = claimsHoliday(truth.get(f.upn));
      const kind = claimed ? 'TP' : planted.has(f.upn) ? 'may' : 'FP';
      if (kind === 'may') continue;
      const thisYear = f.breaks.filter((b: any) => b.sessions.some((s: any) => s.date >= '2025-08-01'));
      const ty = thisYear.filter((b: any) => b.sessions.filter((s: any) => s.date >= '2025-08-01').length >= 2).length;
      console.log(seed, date, kind, f.upn, 'breaks', f.breaks.length, 'thisYear>=2', ty, 'p', f.statistic.value.toExponential(1));
    }
  }
}
