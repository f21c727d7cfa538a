/**
 * The app shell: the service navigation for the signed-in role, hash routes, and one page at a time
 * in <main>. Pages are listed in ROUTES with the roles that may open them and the navigation entry
 * they sit under, so the Virtual School, casework and admin screens are added as more entries.
 */
import { ApiError, setApiBase } from './api.js';
import {
  clearSession,
  cognitoCallback,
  cognitoSignIn,
  currentSession,
  ROLE_LABELS,
  signOut,
  type AppConfig,
  type Role,
  type Session,
} from './auth.js';
import { errorSummary, h, replace, type Child } from './dom.js';
import { listsPage } from './pages/lists.js';
import { overviewPage } from './pages/overview.js';
import { pupilPage } from './pages/pupil.js';
import { homePage } from './pages/home.js';
import { returnPage, returnsPage, uploadPage } from './pages/returns.js';
import { schoolPage, schoolsPage } from './pages/schools.js';
import { signInPage } from './pages/sign-in.js';
import { patternsPage } from './pages/patterns.js';
import { auditPage, calendarsPage, registryPage } from './pages/admin.js';
import { pepPage, virtualSchoolPage } from './pages/virtual-school.js';
import { casePage, casesPage, newCasePage, suggestionsPage } from './pages/cases.js';
import { outboxPage, preferencesPage } from './pages/notifications.js';
import { peoplePage } from './pages/people.js';
import {
  childrenMissingEducationPage,
  deletionsPage,
  dutiesPage,
  lookedAfterPupilsPage,
  newEntriesPage,
  partTimeTimetablesPage,
  socialWorkerAbsencesPage,
} from './pages/duties.js';

export interface PageContext {
  session: Session;
  params: string[];
  query: URLSearchParams;
  config: AppConfig;
  /** Change this page's query (filters) and re-render. */
  setQuery(q: Record<string, string | undefined>): void;
  /** Read this page again from the API (with this query, default none) and re-render it. */
  reload(q?: Record<string, string | undefined>): void;
}

export interface PageResult {
  title: string;
  body: Child[];
}

interface Route {
  path: RegExp;
  roles: readonly Role[];
  /** The navigation entry this page belongs under. */
  nav: string;
  page: (ctx: PageContext) => Promise<PageResult>;
}

interface NavItem {
  id: string;
  label: string;
  href: string | ((s: Session) => string);
  roles: readonly Role[];
}

const LA: readonly Role[] = ['la_officer'];
const ALL: readonly Role[] = ['la_officer', 'vsh', 'school', 'admin'];
const CASEWORK: readonly Role[] = ['la_officer', 'school', 'vsh'];

/** The navigation, per role. Cases and Duties for la_officer, school and vsh; the Virtual School for vsh; Calendars, Registry, Audit log, People and Notifications for admin. */
const NAV: NavItem[] = [
  { id: 'home', label: 'Virtual School', href: '#/', roles: ['vsh'] },
  { id: 'home', label: 'Home', href: '#/', roles: ['admin'] },
  { id: 'overview', label: 'Overview', href: '#/', roles: LA },
  { id: 'schools', label: 'Schools', href: '#/schools', roles: LA },
  { id: 'upload', label: 'Upload a return', href: '#/upload', roles: ['school', 'vsh'] },
  { id: 'returns', label: 'Returns', href: '#/returns', roles: ['school', 'vsh'] },
  { id: 'schools', label: 'Your school', href: (s) => `#/schools/${s.urn}`, roles: ['school'] },
  { id: 'pupils', label: 'Pupils', href: '#/pupils', roles: ['la_officer', 'school', 'vsh'] },
  { id: 'patterns', label: 'Patterns', href: '#/patterns', roles: LA },
  { id: 'cases', label: 'Cases', href: '#/cases', roles: ['la_officer', 'school', 'vsh'] },
  { id: 'duties', label: 'Duties', href: '#/duties', roles: ['la_officer', 'school', 'vsh'] },
  { id: 'calendars', label: 'Calendars', href: '#/calendars', roles: ['admin'] },
  { id: 'registry', label: 'Registry', href: '#/registry', roles: ['admin'] },
  { id: 'audit', label: 'Audit log', href: '#/audit', roles: ['admin'] },
  { id: 'people', label: 'People', href: '#/people', roles: ['admin'] },
  { id: 'notifications', label: 'Notifications', href: '#/notifications', roles: ['admin'] },
  { id: 'alerts', label: 'Your alerts', href: '#/alerts', roles: CASEWORK },
];

const ROUTES: Route[] = [
  {
    path: /^\/$/,
    roles: ALL,
    nav: 'home',
    page: (ctx) =>
      ctx.session.role === 'la_officer'
        ? overviewPage(ctx)
        : ctx.session.role === 'school'
          ? uploadPage(ctx)
          : ctx.session.role === 'vsh'
            ? virtualSchoolPage(ctx)
            : homePage(ctx),
  },
  { path: /^\/virtual-school$/, roles: ['vsh', 'la_officer'], nav: 'home', page: virtualSchoolPage },
  { path: /^\/virtual-school\/pupils\/([A-Za-z0-9]+)$/, roles: ['vsh', 'la_officer'], nav: 'home', page: pepPage },
  { path: /^\/schools$/, roles: LA, nav: 'schools', page: schoolsPage },
  { path: /^\/schools\/(\d{6})$/, roles: ['la_officer', 'school'], nav: 'schools', page: schoolPage },
  { path: /^\/upload$/, roles: ['school', 'vsh'], nav: 'upload', page: uploadPage },
  { path: /^\/returns$/, roles: ['school', 'la_officer', 'vsh'], nav: 'returns', page: returnsPage },
  { path: /^\/returns\/([A-Za-z0-9_-]+)$/, roles: ['school', 'la_officer', 'vsh'], nav: 'returns', page: returnPage },
  { path: /^\/pupils$/, roles: ['la_officer', 'school', 'vsh'], nav: 'pupils', page: listsPage },
  { path: /^\/pupils\/([A-Za-z0-9]+)$/, roles: ['la_officer', 'school', 'vsh'], nav: 'pupils', page: pupilPage },
  { path: /^\/patterns$/, roles: LA, nav: 'patterns', page: patternsPage },
  { path: /^\/calendars$/, roles: ['admin'], nav: 'calendars', page: calendarsPage },
  { path: /^\/registry$/, roles: ['admin'], nav: 'registry', page: registryPage },
  { path: /^\/audit$/, roles: ['admin'], nav: 'audit', page: auditPage },
  { path: /^\/people$/, roles: ['admin'], nav: 'people', page: peoplePage },
  { path: /^\/notifications$/, roles: ['admin'], nav: 'notifications', page: outboxPage },
  { path: /^\/alerts$/, roles: ALL, nav: 'alerts', page: preferencesPage },
  { path: /^\/cases$/, roles: CASEWORK, nav: 'cases', page: casesPage },
  { path: /^\/cases\/suggestions$/, roles: CASEWORK, nav: 'cases', page: suggestionsPage },
  { path: /^\/cases\/new$/, roles: CASEWORK, nav: 'cases', page: newCasePage },
  { path: /^\/cases\/(ref[0-9a-z]+)$/, roles: CASEWORK, nav: 'cases', page: casePage },
  { path: /^\/duties$/, roles: CASEWORK, nav: 'duties', page: dutiesPage },
  { path: /^\/duties\/entries$/, roles: ['la_officer', 'school'], nav: 'duties', page: newEntriesPage },
  { path: /^\/duties\/deletions$/, roles: ['la_officer', 'school'], nav: 'duties', page: deletionsPage },
  { path: /^\/duties\/cme$/, roles: LA, nav: 'duties', page: childrenMissingEducationPage },
  { path: /^\/duties\/part-time$/, roles: ['la_officer', 'school'], nav: 'duties', page: partTimeTimetablesPage },
  { path: /^\/duties\/social-worker$/, roles: ['la_officer', 'vsh'], nav: 'duties', page: socialWorkerAbsencesPage },
  { path: /^\/duties\/looked-after$/, roles: ['school'], nav: 'duties', page: lookedAfterPupilsPage },
];

function parseHash(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, q] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(q ?? '') };
}

let config: AppConfig = { auth: 'local' };

function navigation(session: Session | undefined, active: string | undefined): HTMLElement {
  const items = session ? NAV.filter((n) => n.roles.includes(session.role)) : [];
  const list = h(
    'ul',
    { class: 'govuk-service-navigation__list', id: 'navigation' },
    items.map((n) => {
      const href = typeof n.href === 'function' ? n.href(session!) : n.href;
      const current = n.id === active || (active === 'home' && href === '#/');
      return h(
        'li',
        { class: `govuk-service-navigation__item${current ? ' govuk-service-navigation__item--active' : ''}` },
        h(
          'a',
          { class: 'govuk-service-navigation__link', href, 'aria-current': current ? 'page' : undefined },
          current ? h('strong', { class: 'govuk-service-navigation__active-fallback' }, n.label) : n.label,
        ),
      );
    }),
  );
  return h(
    'section',
    { class: 'govuk-service-navigation', 'aria-label': 'Service information' },
    h(
      'div',
      { class: 'govuk-width-container app-width' },
      h(
        'div',
        { class: 'govuk-service-navigation__container' },
        h(
          'span',
          { class: 'govuk-service-navigation__service-name' },
          h('a', { href: '#/', class: 'govuk-service-navigation__link' }, 'Attendance Hub'),
        ),
        items.length ? h('nav', { 'aria-label': 'Menu', class: 'govuk-service-navigation__wrapper' }, list) : null,
        session
          ? h(
              'div',
              { class: 'app-account' },
              h(
                'span',
                { class: 'govuk-body-s app-account__who' },
                `${ROLE_LABELS[session.role]}${session.urn ? ` · URN ${session.urn}` : ''}`,
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'govuk-button govuk-button--secondary app-account__sign-out',
                  onclick: () => void signOut(config),
                },
                'Sign out',
              ),
            )
          : null,
      ),
    ),
  );
}

let renderSeq = 0;

async function render(): Promise<void> {
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  const header = document.getElementById('app-header')!;
  const main = document.getElementById('main-content')!;
  let session = currentSession();

  if (path === '/sign-in' || !session) {
    if (session && path === '/sign-in') {
      location.hash = '#/';
      return;
    }
    if (config.auth === 'cognito' && config.cognito && !query.get('signed-out')) {
      replace(main, h('p', { class: 'govuk-body' }, 'Taking you to sign in…'));
      await cognitoSignIn(config.cognito, path === '/sign-in' ? '#/' : location.hash || '#/');
      return;
    }
    replace(header, navigation(undefined, undefined));
    const page = await signInPage({
      config,
      query,
      returnTo: path === '/sign-in' ? (query.get('to') ?? '#/') : `#${path}${query.size ? `?${query}` : ''}`,
    });
    if (seq !== renderSeq) return;
    document.title = `${page.title} – Attendance Hub`;
    replace(main, page.body);
    return;
  }

  const route = ROUTES.find((r) => r.path.test(path));
  const params = route ? (route.path.exec(path) ?? []).slice(1) : [];
  replace(header, navigation(session, route?.nav));
  if (!route || !route.roles.includes(session.role)) {
    document.title = 'Page not found – Attendance Hub';
    replace(
      main,
      h('h1', { class: 'govuk-heading-l' }, 'Page not found'),
      h(
        'p',
        { class: 'govuk-body' },
        'There is no such page for your role. ',
        h('a', { class: 'govuk-link', href: '#/' }, 'Go to the start'),
      ),
    );
    return;
  }
  main.setAttribute('aria-busy', 'true');
  replace(main, h('p', { class: 'govuk-body app-loading' }, 'Loading…'));
  const ctx: PageContext = {
    session,
    params,
    query,
    config,
    setQuery(q) {
      const next = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v) next.set(k, v);
      const s = next.toString();
      location.hash = `#${path}${s ? `?${s}` : ''}`;
    },
    reload(q = {}) {
      const next = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v) next.set(k, v);
      const s = next.toString();
      const hash = `#${path}${s ? `?${s}` : ''}`;
      if (location.hash === hash) void render().then(focusHeading);
      else {
        location.hash = hash;
      }
    },
  };
  try {
    const page = await route.page(ctx);
    if (seq !== renderSeq) return;
    document.title = `${page.title} – Attendance Hub`;
    replace(main, page.body);
  } catch (err) {
    if (seq !== renderSeq) return;
    session = currentSession();
    if (!session) return;
    const e = err instanceof ApiError ? err : undefined;
    document.title = `Error – Attendance Hub`;
    replace(
      main,
      errorSummary(e?.status === 404 ? 'Not found' : 'There is a problem', [
        { text: e ? `${e.title}: ${e.detail ?? ''}` : String((err as Error).message ?? err) },
      ]),
      h('p', { class: 'govuk-body' }, h('a', { class: 'govuk-link', href: '#/' }, 'Go to the start')),
    );
  } finally {
    main.removeAttribute('aria-busy');
  }
}

let lastPath = '';
async function onNavigate(): Promise<void> {
  const { path } = parseHash();
  const moved = path !== lastPath;
  lastPath = path;
  await render();
  // A new page: move focus to it, as a full page load would (filters keep focus where it was).
  if (moved) focusHeading();
}

function focusHeading(): void {
  const h1 = document.querySelector<HTMLElement>('#main-content h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: false });
  }
}

async function start(): Promise<void> {
  document.body.classList.add('js-enabled', 'govuk-frontend-supported');
  config = (await fetch('config.json')
    .then((r) => (r.ok ? r.json() : { auth: 'local' }))
    .catch(() => ({ auth: 'local' }))) as AppConfig;
  setApiBase(config.apiBase);
  if (config.auth === 'cognito' && config.cognito) {
    // Back from managed login's sign-out (its logout URL may not carry a fragment).
    if (new URLSearchParams(location.search).has('signed-out'))
      history.replaceState(null, '', `${location.pathname}#/sign-in?signed-out=1`);
    try {
      const to = await cognitoCallback(config.cognito);
      if (to) location.hash = to;
    } catch (err) {
      clearSession();
      replace(
        document.getElementById('main-content')!,
        errorSummary('Sign-in failed', [{ text: (err as Error).message }]),
      );
      return;
    }
  }
  window.addEventListener('hashchange', () => void onNavigate());
  await onNavigate();
}

void start();
