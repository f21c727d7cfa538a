/**
 * People who receive notifications (issue 19): each person's e-mail address, the role and school they
 * hold (set by an administrator, as in their sign-in account) and their own choices per kind of alert.
 * The address, role and school are the administrator's; the choices are the person's. Who may receive
 * a kind is decided by the role and school (shared/domain/notifications.ts), never by the choices.
 */
import type { Role } from '../domain/access.js';
import type { Frequency, NotificationKind, Recipient } from '../domain/notifications.js';
import { k } from './keys.js';
import { deleteItem, getItem, queryAll, updateItem } from './table.js';

export interface Person {
  sub: string;
  /** Set by an administrator; none until then (no address: nothing is sent). */
  email?: string;
  name?: string;
  role?: Role;
  urn?: string;
  preferences?: Partial<Record<NotificationKind, Frequency>>;
  updatedAt: string;
  updatedBy: string;
}

type PersonItem = Person & { pk: string; sk: string; gsi1pk: string; gsi1sk: string };

function strip(item: PersonItem): Person {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return rest;
}

export async function getPerson(sub: string): Promise<Person | undefined> {
  const item = await getItem<PersonItem>(k.person(sub));
  return item ? strip(item) : undefined;
}

export async function listPeople(): Promise<Person[]> {
  const items = await queryAll<PersonItem>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': k.peopleIndex },
  });
  return items.map(strip).sort((a, b) => (a.sub < b.sub ? -1 : a.sub > b.sub ? 1 : 0));
}

/** Set some fields of a person, creating the record if needed, leaving the others as they are. */
async function upsert(sub: string, fields: Partial<Person>, remove: readonly string[] = []): Promise<Person> {
  const names: Record<string, string> = { '#sub': 'sub', '#g': 'gsi1pk', '#gs': 'gsi1sk' };
  const values: Record<string, unknown> = { ':sub': sub, ':g': k.peopleIndex, ':gs': sub };
  const sets = ['#sub = :sub', '#g = :g', '#gs = :gs'];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name === 'sub') continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  const removals = remove.map((name) => {
    names[`#${name}`] = name;
    return `#${name}`;
  });
  const item = await updateItem({
    key: k.person(sub),
    update: `SET ${sets.join(', ')}${removals.length ? ` REMOVE ${removals.join(', ')}` : ''}`,
    names,
    values,
  });
  return strip(item as unknown as PersonItem);
}

/** The administrator's part: address, name, role and school (a school's URN only for the school role). */
export async function putPersonAddress(
  sub: string,
  fields: { email: string; name?: string; role: Role; urn?: string },
  by: string,
  at: string,
): Promise<Person> {
  const remove = [...(fields.name === undefined ? ['name'] : []), ...(fields.urn === undefined ? ['urn'] : [])];
  return upsert(
    sub,
    { email: fields.email, name: fields.name, role: fields.role, urn: fields.urn, updatedAt: at, updatedBy: by },
    remove,
  );
}

/** The person's own part: how often each kind reaches them (kinds not named fall back to the defaults). */
export async function putPreferences(
  sub: string,
  preferences: Partial<Record<NotificationKind, Frequency>>,
  at: string,
): Promise<Person> {
  return upsert(sub, { preferences, updatedAt: at, updatedBy: sub });
}

export async function deletePerson(sub: string): Promise<void> {
  await deleteItem(k.person(sub));
}

/** Everyone who can be sent anything: an address and a role. */
export function recipientsOf(people: readonly Person[]): Recipient[] {
  return people
    .filter((p): p is Person & { email: string; role: Role } => Boolean(p.email && p.role))
    .map((p) => ({
      sub: p.sub,
      role: p.role,
      email: p.email,
      ...(p.urn ? { urn: p.urn } : {}),
      ...(p.preferences ? { preferences: p.preferences } : {}),
    }));
}
