/**
 * Each pupil's absence propensity and its split over reasons, fitted so that every phase of the LA
 * reproduces the DfE's reason rates (calibration.ts) while the spread between pupils reproduces
 * persistent and severe absence and the gaps by FSM, SEN and social care:
 *
 * - risk = household × FSM × SEN × social-care multipliers (MODEL.risk);
 * - a pupil is in the severe class with probability severeBase × risk^1.5 (absence 42–85%),
 *   otherwise their propensity is c × risk × a log-normal individual factor, capped, with c solved
 *   per phase so the phase's mean equals the DfE total of the reasons the model draws;
 * - reasons are split per pupil with unauthorised reasons tilted towards high-absence pupils and
 *   illness away from them, then rescaled (iterative proportional fitting) so each phase's total
 *   per reason matches the DfE's.
 */
import { MODEL, DFE_HEADLINES, reasonPercent, type Phase } from './calibration.js';
import type { PupilPlan } from './behaviours.js';
import { HAZARD_CODES, PupilModel } from './model.js';
import type { Population, Pupil } from './population.js';
import type { Random } from './random.js';
import type { Timetable } from './timetable.js';

interface Draft {
  pupil: Pupil;
  phase: Phase;
  risk: number;
  severe: boolean;
  /** In the persistent or severe class: a fixed propensity, not scaled with the phase. */
  fixed: boolean;
  base: number;
  rate: number;
  sessions: number;
  quiet: boolean;
  late: number;
}

const TILT: Readonly<Record<string, number>> = {
  I: MODEL.illnessTilt,
  M: -0.4,
  O: MODEL.unauthorisedTilt,
  N: MODEL.unauthorisedTilt,
  C: 0,
  C1: 0,
  J1: 0,
  T: 0,
};

function pupilPhase(p: Pupil): Phase {
  const main = p.enrolments.find((e) => e.registration !== 'S') ?? p.enrolments[0];
  return main.school.spec.phase;
}

function pupilRisk(p: Pupil): number {
  const r = MODEL.risk;
  let risk = p.household.risk;
  if (p.fsm) risk *= r.fsm;
  const phase = pupilPhase(p);
  if (p.sen === 'K') risk *= r.senSupport;
  if (p.sen === 'E' && phase !== 'special') risk *= r.ehcpMainstream;
  if (p.socialStatus === 'cin') risk *= r.cin;
  if (p.socialStatus === 'cpp') risk *= r.cpp;
  if (p.socialStatus === 'cla') risk *= r.cla;
  if (p.socialStatus === 'plac') risk *= r.plac;
  if (p.yearGroup >= 9 && phase === 'secondary') risk *= 1 + 0.08 * (p.yearGroup - 8);
  return risk;
}

export function fitModels(
  pop: Population,
  plans: ReadonlyMap<number, PupilPlan>,
  timetables: ReadonlyMap<string, Timetable>,
  range: { fromIdx: number; toIdx: number },
  random: Random,
): PupilModel[] {
  const drafts: Draft[] = pop.pupils.map((p) => {
    const phase = pupilPhase(p);
    const plan = plans.get(p.index);
    const risk = pupilRisk(p);
    const planted =
      plan !== undefined &&
      (plan.quietUnauthorised || plan.adjacentPresent || plan.illnessCapped || plan.rateScale !== 1);
    const u = random.next();
    const social =
      p.socialStatus === 'cin' ? MODEL.severeSocial.cin : p.socialStatus === 'cpp' ? MODEL.severeSocial.cpp : 1;
    const severeP = planted ? 0 : Math.min(0.6, MODEL.severeBase[phase] * risk ** MODEL.severePower * social);
    const persistentP = planted ? 0 : Math.min(0.8 - severeP, MODEL.persistentBase[phase] * risk);
    const severe = u < severeP;
    const persistent = !severe && u < severeP + persistentP;
    const sigma = MODEL.individualSigma[phase];
    const base = severe
      ? MODEL.severeRate.lo + random.next() * (MODEL.severeRate.hi - MODEL.severeRate.lo)
      : persistent
        ? MODEL.persistentRate.median * Math.exp(MODEL.persistentRate.sigma * random.normal())
        : risk * Math.exp(sigma * random.normal() - sigma ** 2 / 2) * (plan?.rateScale ?? 1);
    let sessions = 0;
    for (const e of p.enrolments) {
      const t = timetables.get(e.school.spec.calendar) as Timetable;
      sessions += 2 * t.schoolDaysIn(Math.max(range.fromIdx, e.startIdx), Math.min(range.toIdx, e.endIdx)).length;
    }
    const late = Math.exp(0.9 * random.normal() - 0.405) * Math.sqrt(risk);
    return {
      pupil: p,
      phase,
      risk,
      severe,
      fixed: severe || persistent,
      base,
      rate: 0,
      sessions: Math.max(2, sessions),
      quiet: plan?.quietUnauthorised ?? false,
      late,
    };
  });

  const models: PupilModel[] = new Array(pop.pupils.length);
  for (const phase of ['primary', 'secondary', 'special', 'pru'] as const) {
    const group = drafts.filter((d) => d.phase === phase);
    if (group.length === 0) continue;
    const percent = reasonPercent(phase);
    const realisation = MODEL.realisation[phase];
    const targets = HAZARD_CODES.map((c) => (percent[c] / 100) * realisation);
    const hazard = targets.reduce((a, b) => a + b, 0);

    // Solve the scale c so the phase's mean propensity is the hazard total (weighted by sessions).
    let c = hazard;
    for (let it = 0; it < 8; it++) {
      let sum = 0;
      let weight = 0;
      for (const d of group) {
        d.rate = d.fixed ? d.base : Math.min(MODEL.ordinaryCap, c * d.base);
        sum += d.rate * d.sessions;
        weight += d.sessions;
      }
      const mean = sum / weight;
      if (mean <= 0) break;
      c *= hazard / mean;
    }

    // Reason split by iterative proportional fitting.
    const factors = HAZARD_CODES.map(() => 1);
    const shares = group.map(() => new Float64Array(HAZARD_CODES.length));
    const totalWeight = group.reduce((n, d) => n + d.sessions, 0);
    for (let it = 0; it < 10; it++) {
      const achieved = HAZARD_CODES.map(() => 0);
      group.forEach((d, i) => {
        const rel = Math.max(0.05, d.rate / hazard);
        const s = shares[i];
        let sum = 0;
        HAZARD_CODES.forEach((code, r) => {
          const w = d.quiet && (code === 'O' || code === 'N') ? 0 : factors[r] * targets[r] * rel ** (TILT[code] ?? 0);
          s[r] = w;
          sum += w;
        });
        for (let r = 0; r < s.length; r++) s[r] = sum > 0 ? (s[r] / sum) * d.rate : 0;
        for (let r = 0; r < s.length; r++) achieved[r] += s[r] * d.sessions;
      });
      HAZARD_CODES.forEach((_, r) => {
        const want = targets[r] * totalWeight;
        if (achieved[r] > 0 && want > 0) factors[r] *= want / achieved[r];
      });
    }

    const head = DFE_HEADLINES;
    const lateL = phase === 'pru' ? head.lateL.special * 2 : head.lateL[phase];
    const approved = phase === 'pru' ? head.approvedActivity.special : head.approvedActivity[phase];
    const lateMean = group.reduce((n, d) => n + d.late, 0) / group.length;
    group.forEach((d, i) => {
      const l = d.late / lateMean;
      const m = new PupilModel({
        rates: Array.from(shares[i]),
        lateL: Math.min(0.7, ((lateL / 100) * 2 * l) / (1 - hazard)),
        lateU: d.quiet ? 0 : Math.min(0.3, ((percent.U / 100) * 2 * l) / (1 - hazard)),
        approved: ((approved / 100) * 2) / 1.5 / (1 - hazard),
        initialN: d.pupil.outOfArea ? 0 : MODEL.initialN,
      });
      const plan = plans.get(d.pupil.index);
      if (plan) {
        m.setPlan([...plan.days.values()]);
        m.quietUnauthorised = plan.quietUnauthorised;
        m.adjacentPresent = plan.adjacentPresent;
        m.illnessCapped = plan.illnessCapped;
      }
      m.workExperience = d.pupil.yearGroup >= 10;
      models[d.pupil.index] = m;
    });
  }
  return models;
}
