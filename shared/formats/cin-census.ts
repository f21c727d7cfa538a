/**
 * CIN census XML (docs/design.md §6): `Message/Children/Child` → `cin` and `cpp` episodes.
 *
 * Records: every `CINdetails` (a referral) and every `ChildProtectionPlans` inside one is a
 * record, with the line its element starts on. Rules and decisions:
 * - The child is matched on `ChildIdentifiers/UPN`. No UPN, a `UPNunknown` code (UN1–UN10), a
 *   wrong check letter, or a UPN given together with a UPNunknown code rejects all that child's
 *   records, with one error on the child naming how many records were not loaded.
 * - Text where only elements belong (the census validator's "stray text" fixture:
 *   `<UPNunknown>UN3</UPNunknown>PersonBirthDate`) means the record was hand-edited or corrupted:
 *   it is reported at its own line and the child's records are not loaded (precision first: a
 *   case officer must not act on a record whose fields may be misplaced).
 * - A referral is a period in need from `CINreferralDate` to `CINclosureDate` INCLUSIVE (open
 *   when there is no closure date). A referral with `ReferralNFA` true / 1 ("no further
 *   action") is NOT a period in need: the record is accepted and yields no cin episode. A
 *   missing ReferralNFA counts as false (the referral was acted on).
 * - A child protection plan is a cpp episode `CPPstartDate` … `CPPendDate` inclusive (open when
 *   no end). A plan must lie within its referral's period and cannot belong to a no-further-action
 *   referral; a plan that does not is rejected (one of its dates is wrong and we cannot tell which).
 * - Dates are ISO `YYYY-MM-DD`. Bad, missing or future dates and an end before its start reject
 *   the record. A rejected referral rejects its plans too.
 * - Only the fields above are read; the census's other items (assessments, section 47, …) are
 *   the DfE validator's business and are not checked here.
 */
import { LIMITS } from '../config.js';
import type { FileError } from './csv.js';
import {
  checkCareUpn,
  failedCareImport,
  parseCareDate,
  shown,
  type CareEpisode,
  type CareImport,
  type CareImportOptions,
  type CareRecordError,
} from './care-episodes.js';
import {
  child,
  childText,
  childrenNamed,
  parseXmlDocument,
  strayText,
  textOf,
  xmlFileError,
  type XmlElement,
} from './xml.js';

export interface CinCensusOptions extends CareImportOptions {
  /** Name used in error reports and episode refs (default 'cin-census.xml'). */
  fileName?: string;
}

interface Pending {
  episodes: CareEpisode[];
  errors: CareRecordError[];
  records: number;
  /** Records rejected on their own merits (before child-level checks). */
  rejected: number;
}

export function importCinCensus(input: Buffer, options: CinCensusOptions): CareImport {
  const file = options.fileName ?? 'cin-census.xml';
  const parsed = parseXmlDocument(input, { maxBytes: LIMITS.maxCohortUploadBytes, maxDepth: LIMITS.maxXmlDepth });
  if (!parsed.ok) return failedCareImport(file, xmlFileError(parsed.error), parsed.error.line);
  const root = parsed.root;
  const childrenEl = child(root, 'Children');
  if (root.name !== 'Message' || !childrenEl) {
    const fileError: FileError = {
      status: 422,
      code: 'not_cin_census',
      title: 'Not a CIN census file',
      detail: `expected a CIN census document <Message> holding <Children>; found <${root.name}> on line ${root.line}`,
    };
    return failedCareImport(file, fileError, root.line);
  }

  const episodes: CareEpisode[] = [];
  const errors: CareRecordError[] = [];
  let records = 0;
  let rejected = 0;
  for (const childEl of childrenEl.children) {
    if (childEl.name !== 'Child') continue;
    const id = childText(child(childEl, 'ChildIdentifiers'), 'LAchildID') || undefined;
    const pending = readReferrals(childEl, file, id, options.today);
    records += pending.records;
    errors.push(...pending.errors);

    const childErrors = childProblems(childEl, file, id);
    if (childErrors.upn === undefined || childErrors.errors.length > 0) {
      const notLoaded = pending.records - pending.rejected;
      if (childErrors.errors.length > 0 && notLoaded > 0) {
        const first = childErrors.errors[0];
        first.message += `; ${notLoaded} record${notLoaded > 1 ? 's' : ''} of this child not loaded`;
      }
      errors.push(...childErrors.errors);
      rejected += pending.records;
      continue;
    }
    for (const e of pending.episodes) episodes.push({ ...e, upn: childErrors.upn });
    rejected += pending.rejected;
  }
  errors.sort((a, b) => a.line - b.line);
  return { episodes, errors, counts: { records, accepted: records - rejected, rejected } };
}

/** Child-level problems: identity and stray text. */
function childProblems(
  childEl: XmlElement,
  file: string,
  record: string | undefined,
): { upn?: string; errors: CareRecordError[] } {
  const errors: CareRecordError[] = [];
  const ids = child(childEl, 'ChildIdentifiers');
  for (const { el, text } of strayTextWithin(childEl)) {
    errors.push({
      file,
      line: text.line,
      record,
      field: el.name,
      code: 'stray_text',
      message: `unexpected text ${shown(text.text.trim(), 30)} inside <${el.name}> (line ${el.line}): the record looks hand-edited or corrupted`,
    });
  }
  const upnEl = child(ids, 'UPN');
  const unknownEl = child(ids, 'UPNunknown');
  const line = upnEl?.line ?? unknownEl?.line ?? ids?.line ?? childEl.line;
  let upn: string | undefined;
  if (!upnEl || textOf(upnEl) === '') {
    const check = checkCareUpn(unknownEl ? textOf(unknownEl) : '');
    const unknown = check.ok ? undefined : check;
    errors.unshift({
      file,
      line,
      record,
      field: unknownEl ? 'UPNunknown' : 'UPN',
      code: unknown?.code === 'upn_unknown' ? 'upn_unknown' : 'upn_missing',
      message:
        unknown?.code === 'upn_unknown' ? unknown.message : 'no UPN: the child cannot be matched to school registers',
    });
  } else {
    const check = checkCareUpn(textOf(upnEl));
    if (!check.ok)
      errors.unshift({ file, line: upnEl.line, record, field: 'UPN', code: check.code, message: check.message });
    else if (unknownEl && textOf(unknownEl) !== '') {
      errors.unshift({
        file,
        line: unknownEl.line,
        record,
        field: 'UPNunknown',
        code: 'upn_conflict',
        message: `both a UPN and the UPN-unknown code ${shown(textOf(unknownEl))} are given: the identity is contradictory`,
      });
    } else upn = check.upn;
  }
  return { upn, errors };
}

/** Elements that hold child elements and also carry non-blank text, anywhere under `root`. */
function strayTextWithin(root: XmlElement): { el: XmlElement; text: { text: string; line: number } }[] {
  const found: { el: XmlElement; text: { text: string; line: number } }[] = [];
  const stack = [root];
  while (stack.length) {
    const el = stack.pop() as XmlElement;
    for (const text of strayText(el)) found.push({ el, text });
    for (let k = el.children.length - 1; k >= 0; k--) stack.push(el.children[k]);
  }
  return found.sort((a, b) => a.text.line - b.text.line);
}

function readReferrals(childEl: XmlElement, file: string, record: string | undefined, today: string): Pending {
  const out: Pending = { episodes: [], errors: [], records: 0, rejected: 0 };
  for (const cin of childrenNamed(childEl, 'CINdetails')) {
    out.records++;
    const errs: CareRecordError[] = [];
    const bad = (el: XmlElement | undefined, field: string, code: string, message: string) =>
      errs.push({ file, line: el?.line ?? cin.line, record, field, code, message });

    const referral = readDate(cin, 'CINreferralDate', true, today, bad);
    const closure = readDate(cin, 'CINclosureDate', false, today, bad);
    if (referral && closure && closure < referral) {
      bad(
        child(cin, 'CINclosureDate'),
        'CINclosureDate',
        'closure_before_referral',
        `CINclosureDate ${closure} is before CINreferralDate ${referral}`,
      );
    }
    const nfaEl = child(cin, 'ReferralNFA');
    const nfaRaw = textOf(nfaEl).toLowerCase();
    let nfa = false;
    if (nfaEl && nfaRaw !== '') {
      if (nfaRaw === 'true' || nfaRaw === '1') nfa = true;
      else if (nfaRaw !== 'false' && nfaRaw !== '0')
        bad(nfaEl, 'ReferralNFA', 'invalid_value', `ReferralNFA ${shown(textOf(nfaEl))} is not true, false, 1 or 0`);
    }
    const plans = childrenNamed(cin, 'ChildProtectionPlans');
    const referralOk = errs.length === 0 && referral !== undefined;
    out.errors.push(...errs);
    if (referralOk && !nfa) {
      const ep: CareEpisode = {
        upn: '',
        cohort: 'cin',
        start: referral,
        source: 'cin_census',
        ref: `${file} line ${cin.line}`,
      };
      if (closure) ep.end = closure;
      out.episodes.push(ep);
    }
    if (!referralOk) out.rejected++;

    for (const plan of plans) {
      out.records++;
      const planErrs: CareRecordError[] = [];
      const planBad = (el: XmlElement | undefined, field: string, code: string, message: string) =>
        planErrs.push({ file, line: el?.line ?? plan.line, record, field, code, message });
      const start = readDate(plan, 'CPPstartDate', true, today, planBad);
      const end = readDate(plan, 'CPPendDate', false, today, planBad);
      if (start && end && end < start)
        planBad(
          child(plan, 'CPPendDate'),
          'CPPendDate',
          'end_before_start',
          `CPPendDate ${end} is before CPPstartDate ${start}`,
        );
      if (planErrs.length === 0 && start) {
        if (!referralOk) {
          planBad(
            plan,
            'ChildProtectionPlans',
            'referral_rejected',
            `the plan's referral (line ${cin.line}) is not loaded, so the plan is not loaded either`,
          );
        } else if (nfa) {
          planBad(
            plan,
            'ChildProtectionPlans',
            'plan_in_nfa_referral',
            `a child protection plan from ${start} inside a referral marked no further action (line ${cin.line}): one of them is wrong`,
          );
        } else if (start < referral || (closure !== undefined && (end === undefined || end > closure))) {
          planBad(
            child(plan, 'CPPstartDate') ?? plan,
            'CPPstartDate',
            'plan_outside_referral',
            `the plan (${start} to ${end ?? 'open'}) is not within its referral (${referral} to ${closure ?? 'open'}, line ${cin.line})`,
          );
        }
      }
      out.errors.push(...planErrs);
      if (planErrs.length > 0 || !start) {
        out.rejected++;
        continue;
      }
      const ep: CareEpisode = { upn: '', cohort: 'cpp', start, source: 'cin_census', ref: `${file} line ${plan.line}` };
      if (end) ep.end = end;
      out.episodes.push(ep);
    }
  }
  return out;
}

type Bad = (el: XmlElement | undefined, field: string, code: string, message: string) => void;

function readDate(parent: XmlElement, name: string, required: boolean, today: string, bad: Bad): string | undefined {
  const el = child(parent, name);
  const raw = textOf(el);
  if (!el || raw === '') {
    if (required) bad(el ?? parent, name, 'date_missing', `no ${name}`);
    return undefined;
  }
  const date = parseCareDate(raw, ['iso']);
  if (!date) {
    bad(el, name, 'invalid_date', `${name} ${shown(raw)} is not a date (expected YYYY-MM-DD)`);
    return undefined;
  }
  if (date > today) {
    bad(el, name, 'future_date', `${name} ${date} is after today (${today})`);
    return undefined;
  }
  return date;
}
