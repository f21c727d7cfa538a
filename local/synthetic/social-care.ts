/**
 * The LA's social-care lists in their real formats (docs/design.md §6): the SSDA903 children-looked-after
 * extract `header.csv` + `episodes.csv` (columns as in the DfE validator's fixtures,
 * test/fixtures/formats/social-care/) and a CIN census XML (`Message/Header`, `Children/Child`
 * with ChildIdentifiers, CINdetails, ChildProtectionPlans). Dates are DD/MM/YYYY in SSDA903 and
 * ISO in the census; nothing is dated after the end of the range.
 */
import type { Pupil } from './population.js';

const HEADER_COLUMNS = 'CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB';
const EPISODE_COLUMNS = 'CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN';

function uk(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

function byChild(pupils: readonly Pupil[]): Pupil[] {
  return pupils.filter((p) => p.care).sort((a, b) => Number(a.care?.child) - Number(b.care?.child));
}

export function ssda903Files(pupils: readonly Pupil[]): {
  header: string;
  episodes: string;
  children: number;
  episodeCount: number;
} {
  const looked = byChild(pupils).filter((p) => (p.care?.episodes.length ?? 0) > 0);
  const header = [HEADER_COLUMNS];
  const episodes = [EPISODE_COLUMNS];
  for (const p of looked) {
    const care = p.care as NonNullable<Pupil['care']>;
    header.push([care.child, p.sex === 'M' ? '1' : '2', uk(p.dob), p.ethnicity, p.upn, '', ''].join(','));
    for (const e of care.episodes) {
      episodes.push(
        [
          care.child,
          uk(e.decom),
          e.rne,
          e.ls,
          e.cin,
          e.place,
          e.provider,
          e.dec ? uk(e.dec) : '',
          e.rec,
          e.reasonChange,
          e.homePost,
          e.placePost,
          e.urn,
        ].join(','),
      );
    }
  }
  return {
    header: `${header.join('\r\n')}\r\n`,
    episodes: `${episodes.join('\r\n')}\r\n`,
    children: looked.length,
    episodeCount: episodes.length - 1,
  };
}

function el(name: string, value: string): string {
  return `<${name}>${value.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</${name}>`;
}

export function cinCensusXml(
  pupils: readonly Pupil[],
  o: { laCode: string; academicYear: number; stamp: string },
): { xml: string; children: number; referrals: number } {
  const children = byChild(pupils).filter((p) => (p.care?.referrals.length ?? 0) > 0);
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Message>',
    '  <Header>',
    `    <CollectionDetails>${el('Collection', 'CIN')}${el('Year', String(o.academicYear + 1))}${el('ReferenceDate', `${o.academicYear + 1}-03-31`)}</CollectionDetails>`,
    `    <Source>${el('SourceLevel', 'L')}${el('LEA', o.laCode)}${el('SoftwareCode', 'Attendance Hub synthetic LA')}${el('Release', '1')}${el('SerialNo', '001')}${el('DateTime', `${o.stamp}T00:00:00`)}</Source>`,
    '  </Header>',
    '  <Children>',
  ];
  let referrals = 0;
  for (const p of children) {
    const care = p.care as NonNullable<Pupil['care']>;
    lines.push('    <Child>');
    lines.push(
      `      <ChildIdentifiers>${el('LAchildID', care.laChildId)}${el('UPN', p.upn)}${el('PersonBirthDate', p.dob)}${el('Sex', p.sex === 'M' ? '1' : '2')}</ChildIdentifiers>`,
    );
    lines.push(`      <ChildCharacteristics>${el('Ethnicity', p.ethnicity)}</ChildCharacteristics>`);
    for (const r of care.referrals) {
      referrals++;
      lines.push('      <CINdetails>');
      lines.push(
        `        ${el('CINreferralDate', r.referral)}${el('ReferralSource', '1A')}${el('PrimaryNeedCode', r.primaryNeed)}`,
      );
      if (r.closure)
        lines.push(`        ${el('CINclosureDate', r.closure)}${el('ReasonForClosure', r.nfa ? 'RC8' : 'RC1')}`);
      lines.push(`        ${el('ReferralNFA', r.nfa ? 'true' : 'false')}`);
      for (const plan of r.plans) {
        lines.push('        <ChildProtectionPlans>');
        lines.push(
          `          ${el('CPPstartDate', plan.start)}${plan.end ? el('CPPendDate', plan.end) : ''}${el('InitialCategoryOfAbuse', 'NEG')}${el('LatestCategoryOfAbuse', 'NEG')}${el('NumberOfPreviousCPP', '0')}`,
        );
        lines.push('        </ChildProtectionPlans>');
      }
      lines.push('      </CINdetails>');
    }
    lines.push('    </Child>');
  }
  lines.push('  </Children>', '</Message>');
  return { xml: `${lines.join('\n')}\n`, children: children.length, referrals };
}
