import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { createOrganization, organizationsOf } from '../organizations/organizations.store';
import { CreateOrganizationBody } from '../organizations/organizations.schemas';
import { actorOf } from '../lib/request';
import { refuseCsrf } from './auth.pages';
import { CsrfField, Layout, type OrgLink } from './layout';
import { csrfValid, formFields, pageUser } from './pages.middleware';
import type { AuthUser } from '../env';

const NewOrgPage = (p: {
  user: AuthUser;
  orgs: OrgLink[];
  csrf?: string;
  name?: string;
  slug?: string;
  error?: string;
}) => (
  <Layout title="New organization" user={p.user} orgs={p.orgs} csrf={p.csrf} narrow>
    <div class="card">
      <div class="card-body">
        <h1>Create an organization</h1>
        <p class="sub">You will be its owner and can invite your team next.</p>
        {p.error ? (
          <div class="alert error" role="alert">
            {p.error}
          </div>
        ) : null}
        <form method="post" action="/orgs/new">
          <CsrfField token={p.csrf} />
          <div class="field">
            <label for="org-name">Name</label>
            <input
              id="org-name"
              name="name"
              type="text"
              required
              maxlength={100}
              value={p.name ?? ''}
              placeholder="Acme Inc"
            />
          </div>
          <div class="field">
            <label for="org-slug">
              URL slug <span class="hint">(optional: lower-case letters, digits and dashes)</span>
            </label>
            <input id="org-slug" name="slug" type="text" maxlength={48} value={p.slug ?? ''} placeholder="acme-inc" />
          </div>
          <button class="btn primary" type="submit">
            Create organization
          </button>
        </form>
      </div>
    </div>
  </Layout>
);

export const orgPages = new Hono<AppEnv>()
  .get('/', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    const [first] = await organizationsOf(c.var.db, user.id);
    return c.redirect(first ? `/orgs/${first.slug}/settings/team` : '/orgs/new', 303);
  })
  .get('/orgs/new', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    return c.html(<NewOrgPage user={user} orgs={await organizationsOf(c.var.db, user.id)} csrf={c.var.csrf} />);
  })
  .post('/orgs/new', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const input = { name: form.name ?? '', ...(form.slug?.trim() ? { slug: form.slug } : {}) };
    const parsed = CreateOrganizationBody.safeParse(input);
    const again = async (error: string, status: 400 | 409 | 429) =>
      c.html(
        <NewOrgPage
          user={user}
          orgs={await organizationsOf(c.var.db, user.id)}
          csrf={c.var.csrf}
          name={form.name}
          slug={form.slug}
          error={error}
        />,
        status,
      );
    if (!parsed.success)
      return again(
        'Give the organization a name (up to 100 characters) and, optionally, a slug of lower-case letters, digits and dashes.',
        400,
      );
    try {
      const org = await createOrganization(c.env, c.var.db, actorOf(c, user.id), user.id, parsed.data, Date.now());
      return c.redirect(`/orgs/${org.slug}/settings/team`, 303);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'slug_taken' || err.code === 'organization_limit'))
        return again(err.detail, 409);
      if (err instanceof ApiError && err.code === 'rate_limited') {
        c.header('Retry-After', err.headers['Retry-After']);
        return again(err.detail, 429);
      }
      throw err;
    }
  });
