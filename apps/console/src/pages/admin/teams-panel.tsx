import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ConfirmDialog, DataTable, ErrorMessage, Loading } from '../../components/ui';
import { ApiError } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import { Field } from './admin-ui';
import type { FieldErrors } from './settings-form';
import {
  availabilityBody,
  conflictWords,
  describeHours,
  describeSla,
  memberFormFrom,
  memberFromForm,
  PRIORITIES,
  teamFormFrom,
  teamFromForm,
  WEEKDAYS,
  type Member,
  type MemberField,
  type MemberForm,
  type Team,
  type TeamField,
  type TeamForm,
} from './team-form';

type Editing = { kind: 'team'; original?: Team } | { kind: 'member'; original?: Member };
type Removing = { kind: 'team'; id: string; name: string } | { kind: 'member'; id: string; name: string };

const TEAMS = ['admin', 'teams'];
const MEMBERS = ['admin', 'members'];

/** A 412 (If-Match) or 409 in words; anything else as the engine said it. */
function Problem({ error, title }: { error: unknown; title: string }) {
  if (error instanceof ApiError) {
    const words = conflictWords(error.status, error.message);
    if (words) return <ErrorMessage error={new Error(words)} title={title} />;
  }
  return <ErrorMessage error={error} title={title} />;
}

/** Teams and members: list, define, edit, remove (each write based on the revision read: If-Match), availability. */
export function TeamsPanel() {
  const api = useApi();
  const client = useQueryClient();
  const teams = useQuery({ queryKey: TEAMS, queryFn: () => api.get<{ teams: Team[]; revision: number }>('/v1/teams') });
  const members = useQuery({ queryKey: MEMBERS, queryFn: () => api.get<{ members: Member[]; revision: number }>('/v1/members') });
  const [editing, setEditing] = useState<Editing>();
  const [removing, setRemoving] = useState<Removing>();
  const [done, setDone] = useState<string>();
  const revision = Math.max(teams.data?.revision ?? 0, members.data?.revision ?? 0);
  const ifMatch = { 'if-match': `"${revision}"` };
  const reload = async () => {
    await Promise.all([client.invalidateQueries({ queryKey: TEAMS }), client.invalidateQueries({ queryKey: MEMBERS })]);
  };
  const onConflict = (error: unknown) => {
    if (error instanceof ApiError && error.status === 412) void reload();
  };

  const remove = useMutation({
    mutationFn: (r: Removing) =>
      api.delete(`/v1/${r.kind === 'team' ? 'teams' : 'members'}/${encodeURIComponent(r.id)}`, { headers: ifMatch }),
    onSuccess: (_, r) => {
      setDone(`${r.kind === 'team' ? 'Team' : 'Member'} “${r.name}” removed.`);
      void reload();
    },
    onError: onConflict,
  });
  const availability = useMutation({
    mutationFn: (m: Member) =>
      api.put<Member>(`/v1/members/${encodeURIComponent(m.memberId)}/availability`, { away: !m.away }, { headers: ifMatch }),
    onSuccess: (m) => {
      setDone(`${m.name} is ${m.away ? 'away: assignment passes them over' : 'available again'}.`);
      void reload();
    },
    onError: onConflict,
  });

  const teamList = [...(teams.data?.teams ?? [])].sort((a, b) => a.teamId.localeCompare(b.teamId));
  const memberList = [...(members.data?.members ?? [])].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const teamName = (id: string) => teamList.find((t) => t.teamId === id)?.name ?? id;
  const start = (e: Editing) => {
    setDone(undefined);
    remove.reset();
    availability.reset();
    setEditing(e);
  };

  return (
    <>
      {done ? (
        <p role="status" className="notice">
          {done}
        </p>
      ) : null}
      <Problem error={remove.error} title="Could not remove" />
      <Problem error={availability.error} title="Could not change the availability" />
      {editing?.kind === 'team' ? (
        <TeamEditor
          key={editing.original?.teamId ?? 'new-team'}
          original={editing.original}
          teams={teamList}
          members={memberList}
          ifMatch={ifMatch}
          onDone={(message) => {
            setEditing(undefined);
            if (message) setDone(message);
            void reload();
          }}
          onConflict={onConflict}
        />
      ) : null}
      {editing?.kind === 'member' ? (
        <MemberEditor
          key={editing.original?.memberId ?? 'new-member'}
          original={editing.original}
          teams={teamList}
          members={memberList}
          ifMatch={ifMatch}
          onDone={(message) => {
            setEditing(undefined);
            if (message) setDone(message);
            void reload();
          }}
          onConflict={onConflict}
        />
      ) : null}

      <section aria-labelledby="teams-title">
        <div className="row">
          <h2 id="teams-title">Teams</h2>
          <button type="button" onClick={() => start({ kind: 'team' })}>
            New team
          </button>
        </div>
        {teams.isPending ? <Loading label="Loading the teams…" /> : null}
        <ErrorMessage error={teams.error} title="Could not load the teams" />
        {teams.data ? (
          <DataTable
            caption={`${teamList.length} team${teamList.length === 1 ? '' : 's'} (revision ${teams.data.revision})`}
            filename="teams.csv"
            columns={['Team', 'Name', 'Time zone', 'Business hours', 'SLA (first response / resolution)', 'Lead', 'Members', 'Actions']}
            csvRows={teamList.map((t) => [
              t.teamId,
              t.name,
              t.timeZone,
              describeHours(t),
              describeSla(t),
              t.lead ?? '',
              memberList.filter((m) => m.teams.includes(t.teamId)).length,
              '',
            ])}
            rows={teamList.map((t) => [
              <code key="id">{t.teamId}</code>,
              t.name,
              t.timeZone,
              describeHours(t),
              describeSla(t),
              t.lead ?? '—',
              memberList.filter((m) => m.teams.includes(t.teamId)).length,
              <div className="row-actions" key="actions">
                <button type="button" aria-label={`Edit team ${t.name}`} onClick={() => start({ kind: 'team', original: t })}>
                  Edit
                </button>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete team ${t.name}`}
                  onClick={() => setRemoving({ kind: 'team', id: t.teamId, name: t.name })}
                >
                  Delete
                </button>
              </div>,
            ])}
          />
        ) : null}
      </section>

      <section aria-labelledby="members-title">
        <div className="row">
          <h2 id="members-title">Members</h2>
          <button type="button" onClick={() => start({ kind: 'member' })}>
            New member
          </button>
        </div>
        {members.isPending ? <Loading label="Loading the members…" /> : null}
        <ErrorMessage error={members.error} title="Could not load the members" />
        {members.data ? (
          <DataTable
            caption={`${memberList.length} member${memberList.length === 1 ? '' : 's'}`}
            filename="members.csv"
            columns={['Member', 'Name', 'Email', 'Teams', 'Slack user', 'Availability', 'Actions']}
            csvRows={memberList.map((m) => [
              m.memberId,
              m.name,
              m.email ?? '',
              m.teams.join(' '),
              m.slackUserId ?? '',
              m.away ? `away${m.awayUntil ? ` until ${m.awayUntil}` : ''}` : 'available',
              '',
            ])}
            rows={memberList.map((m) => [
              <code key="id">{m.memberId}</code>,
              m.name,
              m.email ?? '—',
              m.teams.length ? m.teams.map(teamName).join(', ') : '—',
              m.slackUserId ?? '—',
              m.away ? (
                <span className="badge warn" key="away">
                  Away{m.awayUntil ? ` until ${formatTime(m.awayUntil)}` : ''}
                </span>
              ) : (
                <span className="badge ok" key="available">
                  Available
                </span>
              ),
              <div className="row-actions" key="actions">
                <button type="button" aria-label={`Edit member ${m.name}`} onClick={() => start({ kind: 'member', original: m })}>
                  Edit
                </button>
                <button
                  type="button"
                  aria-label={m.away ? `Mark available (${m.name})` : `Mark away (${m.name})`}
                  disabled={availability.isPending}
                  onClick={() => {
                    setDone(undefined);
                    availability.mutate(m);
                  }}
                >
                  {m.away ? 'Mark available' : 'Mark away'}
                </button>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete member ${m.name}`}
                  onClick={() => setRemoving({ kind: 'member', id: m.memberId, name: m.name })}
                >
                  Delete
                </button>
              </div>,
            ])}
          />
        ) : null}
      </section>

      <ConfirmDialog
        open={removing !== undefined}
        title={removing ? `Delete ${removing.kind} “${removing.name}”?` : ''}
        confirmLabel={removing?.kind === 'team' ? 'Delete team' : 'Delete member'}
        onCancel={() => setRemoving(undefined)}
        onConfirm={() => {
          if (!removing) return;
          setRemoving(undefined);
          setDone(undefined);
          remove.mutate(removing);
        }}
      >
        <p>
          {removing?.kind === 'team'
            ? 'Its members stay, without this team; conversations handed to it wait for a team that exists.'
            : 'Their keys stay until revoked; a member who leads a team cannot be removed until another lead is named.'}
        </p>
      </ConfirmDialog>
    </>
  );
}

function TeamEditor({
  original,
  teams,
  members,
  ifMatch,
  onDone,
  onConflict,
}: {
  original?: Team;
  teams: Team[];
  members: Member[];
  ifMatch: Record<string, string>;
  onDone(message?: string): void;
  onConflict(error: unknown): void;
}) {
  const api = useApi();
  const [form, setForm] = useState<TeamForm>(() => teamFormFrom(original));
  const [errors, setErrors] = useState<FieldErrors<TeamField>>({});
  const save = useMutation({
    mutationFn: (team: Team) => api.put<Team>(`/v1/teams/${encodeURIComponent(team.teamId)}`, team, { headers: ifMatch }),
    onSuccess: (team) => onDone(`Team “${team.name}” saved.`),
    onError: onConflict,
  });
  const set = <K extends keyof TeamForm>(k: K, v: TeamForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { team, errors } = teamFromForm(
      form,
      members.map((m) => m.memberId),
    );
    if (!original && team && teams.some((t) => t.teamId === team.teamId))
      errors.teamId = `team "${team.teamId}" exists already: edit it instead`;
    setErrors(errors);
    if (team && !Object.keys(errors).length) save.mutate(team);
  };
  const title = original ? `Edit team ${original.name}` : 'New team';
  return (
    <section aria-labelledby="team-editor-title" className="panel">
      <h2 id="team-editor-title">{title}</h2>
      <form onSubmit={submit} noValidate aria-labelledby="team-editor-title">
        <div className="form-grid">
          <Field id="team-id" label="Team id" error={errors.teamId} hint={original ? 'The id cannot change' : 'e.g. support'}>
            {(p) => (
              <input
                {...p}
                value={form.teamId}
                readOnly={!!original}
                autoFocus={!original}
                onChange={(e) => set('teamId', e.target.value)}
              />
            )}
          </Field>
          <Field id="team-name" label="Team name" error={errors.name}>
            {(p) => <input {...p} value={form.name} autoFocus={!!original} onChange={(e) => set('name', e.target.value)} />}
          </Field>
          <Field id="team-zone" label="Time zone" error={errors.timeZone} hint="IANA, e.g. Europe/Paris">
            {(p) => <input {...p} value={form.timeZone} onChange={(e) => set('timeZone', e.target.value)} />}
          </Field>
          <Field id="team-lead" label="Lead" error={errors.lead}>
            {(p) => (
              <select {...p} value={form.lead} onChange={(e) => set('lead', e.target.value)}>
                <option value="">No lead</option>
                {members.map((m) => (
                  <option key={m.memberId} value={m.memberId}>
                    {m.name} ({m.memberId})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="team-owner-trait" label="Owner trait" error={errors.ownerTrait} hint="A trait naming the member who owns a customer">
            {(p) => <input {...p} value={form.ownerTrait} onChange={(e) => set('ownerTrait', e.target.value)} />}
          </Field>
        </div>

        <fieldset>
          <legend>Business hours</legend>
          <div className="checks">
            <label>
              <input type="checkbox" checked={form.customHours} onChange={(e) => set('customHours', e.target.checked)} /> Set business hours
              (otherwise Monday to Friday, 09:00 to 17:00)
            </label>
          </div>
          {form.customHours ? (
            <>
              <div className="checks" role="group" aria-label="Working days" aria-describedby={errors.days ? 'team-days-error' : undefined}>
                {WEEKDAYS.map(([d, label]) => (
                  <label key={d}>
                    <input
                      type="checkbox"
                      checked={form.days.includes(d)}
                      onChange={(e) => set('days', e.target.checked ? [...form.days, d] : form.days.filter((x) => x !== d))}
                    />{' '}
                    {label}
                  </label>
                ))}
              </div>
              {errors.days ? (
                <p id="team-days-error" className="field-error">
                  {errors.days}
                </p>
              ) : null}
              <div className="row">
                <Field id="team-start" label="Start" error={errors.start}>
                  {(p) => <input {...p} type="time" value={form.start} onChange={(e) => set('start', e.target.value)} />}
                </Field>
                <Field id="team-end" label="End" error={errors.end}>
                  {(p) => <input {...p} type="time" value={form.end} onChange={(e) => set('end', e.target.value)} />}
                </Field>
              </div>
            </>
          ) : null}
        </fieldset>

        <fieldset>
          <legend>SLA targets (business hours: 30m, 4h, 2d)</legend>
          <table className="sla-table">
            <caption className="muted">First response and resolution by priority; empty: no target</caption>
            <thead>
              <tr>
                <th scope="col">Priority</th>
                <th scope="col">First response</th>
                <th scope="col">Resolution</th>
              </tr>
            </thead>
            <tbody>
              {PRIORITIES.map((p) => (
                <tr key={p}>
                  <th scope="row">{p}</th>
                  {(['firstResponse', 'resolution'] as const).map((k) => {
                    const error = errors[`sla.${p}.${k}`];
                    const id = `sla-${p}-${k}`;
                    return (
                      <td key={k}>
                        <input
                          id={id}
                          aria-label={`${p} ${k === 'firstResponse' ? 'first response' : 'resolution'} target`}
                          value={form.sla[p][k]}
                          aria-invalid={error ? true : undefined}
                          aria-describedby={error ? `${id}-error` : undefined}
                          onChange={(e) => set('sla', { ...form.sla, [p]: { ...form.sla[p], [k]: e.target.value } })}
                        />
                        {error ? (
                          <p id={`${id}-error`} className="field-error">
                            {error}
                          </p>
                        ) : null}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </fieldset>

        <fieldset>
          <legend>Escalation and handoffs</legend>
          <div className="checks">
            <label>
              <input type="checkbox" checked={form.reassignToLead} onChange={(e) => set('reassignToLead', e.target.checked)} /> Reassign a
              breach to the lead
            </label>
            <label>
              <input type="checkbox" checked={form.escalateToSlack} onChange={(e) => set('escalateToSlack', e.target.checked)} /> Post
              breaches to Slack
            </label>
            <label>
              <input type="checkbox" checked={form.handoffToSlack} onChange={(e) => set('handoffToSlack', e.target.checked)} /> Post
              handoffs to Slack
            </label>
          </div>
          {errors.reassignToLead ? <p className="field-error">{errors.reassignToLead}</p> : null}
          <div className="form-grid">
            <Field id="team-escalate-emails" label="Email breaches to" error={errors.escalateEmails} hint="Addresses, comma-separated">
              {(p) => <input {...p} value={form.escalateEmails} onChange={(e) => set('escalateEmails', e.target.value)} />}
            </Field>
            <Field id="team-handoff-emails" label="Email handoffs to" error={errors.handoffEmails} hint="Addresses, comma-separated">
              {(p) => <input {...p} value={form.handoffEmails} onChange={(e) => set('handoffEmails', e.target.value)} />}
            </Field>
          </div>
        </fieldset>
        <Problem error={save.error} title="Could not save the team" />
        <div className="row">
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : original ? 'Save team' : 'Create team'}
          </button>
          <button type="button" onClick={() => onDone()}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function MemberEditor({
  original,
  teams,
  members,
  ifMatch,
  onDone,
  onConflict,
}: {
  original?: Member;
  teams: Team[];
  members: Member[];
  ifMatch: Record<string, string>;
  onDone(message?: string): void;
  onConflict(error: unknown): void;
}) {
  const api = useApi();
  const [form, setForm] = useState<MemberForm>(() => memberFormFrom(original));
  const [errors, setErrors] = useState<FieldErrors<MemberField>>({});
  const save = useMutation({
    mutationFn: (m: NonNullable<ReturnType<typeof memberFromForm>['member']>) =>
      api.put<Member>(`/v1/members/${encodeURIComponent(m.memberId)}`, m, { headers: ifMatch }),
    onSuccess: (m) => onDone(`Member “${m.name}” saved.`),
    onError: onConflict,
  });
  const set = <K extends keyof MemberForm>(k: K, v: MemberForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { member, errors } = memberFromForm(
      form,
      teams.map((t) => t.teamId),
    );
    if (!original && member && members.some((m) => m.memberId === member.memberId))
      errors.memberId = `member "${member.memberId}" exists already: edit them instead`;
    setErrors(errors);
    if (member && !Object.keys(errors).length) save.mutate(member);
  };
  const title = original ? `Edit member ${original.name}` : 'New member';
  return (
    <section aria-labelledby="member-editor-title" className="panel">
      <h2 id="member-editor-title">{title}</h2>
      <form onSubmit={submit} noValidate aria-labelledby="member-editor-title">
        <div className="form-grid">
          <Field id="member-id" label="Member id" error={errors.memberId} hint={original ? 'The id cannot change' : 'e.g. sam'}>
            {(p) => (
              <input
                {...p}
                value={form.memberId}
                readOnly={!!original}
                autoFocus={!original}
                onChange={(e) => set('memberId', e.target.value)}
              />
            )}
          </Field>
          <Field id="member-name" label="Full name" error={errors.name}>
            {(p) => <input {...p} value={form.name} autoFocus={!!original} onChange={(e) => set('name', e.target.value)} />}
          </Field>
          <Field id="member-email" label="Email" error={errors.email}>
            {(p) => <input {...p} type="email" value={form.email} onChange={(e) => set('email', e.target.value)} />}
          </Field>
          <Field id="member-slack" label="Slack user id" error={errors.slackUserId} hint="So Slack actions are recorded as theirs">
            {(p) => <input {...p} value={form.slackUserId} onChange={(e) => set('slackUserId', e.target.value)} />}
          </Field>
        </div>
        <fieldset aria-describedby={errors.teams ? 'member-teams-error' : undefined}>
          <legend>Teams</legend>
          {teams.length === 0 ? <p className="muted">No team yet: create one first.</p> : null}
          <div className="checks">
            {teams.map((t) => (
              <label key={t.teamId}>
                <input
                  type="checkbox"
                  checked={form.teams.includes(t.teamId)}
                  onChange={(e) => set('teams', e.target.checked ? [...form.teams, t.teamId] : form.teams.filter((x) => x !== t.teamId))}
                />{' '}
                {t.name}
              </label>
            ))}
          </div>
          {errors.teams ? (
            <p id="member-teams-error" className="field-error">
              {errors.teams}
            </p>
          ) : null}
        </fieldset>
        <Problem error={save.error} title="Could not save the member" />
        <div className="row">
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : original ? 'Save member' : 'Create member'}
          </button>
          <button type="button" onClick={() => onDone()}>
            Cancel
          </button>
        </div>
      </form>
      {original ? <Availability member={original} ifMatch={ifMatch} onDone={onDone} onConflict={onConflict} /> : null}
    </section>
  );
}

/** Away (until a time) or available: assignment passes over a member who is away. */
function Availability({
  member,
  ifMatch,
  onDone,
  onConflict,
}: {
  member: Member;
  ifMatch: Record<string, string>;
  onDone(message?: string): void;
  onConflict(error: unknown): void;
}) {
  const api = useApi();
  const [away, setAway] = useState(member.away);
  const [until, setUntil] = useState('');
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (body: { away: boolean; until?: string }) =>
      api.put<Member>(`/v1/members/${encodeURIComponent(member.memberId)}/availability`, body, { headers: ifMatch }),
    onSuccess: (m) => onDone(`${m.name} is ${m.away ? `away${m.awayUntil ? ` until ${formatTime(m.awayUntil)}` : ''}` : 'available'}.`),
    onError: onConflict,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { body, error } = availabilityBody(away, until);
    setError(error);
    if (body) save.mutate(body);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="availability-title">
      <h3 id="availability-title">Availability</h3>
      <p className="muted">
        Now: {member.away ? `away${member.awayUntil ? ` until ${formatTime(member.awayUntil)}` : ''}` : 'available'}. Assignment passes over
        a member who is away.
      </p>
      <div className="row">
        <div className="checks" role="radiogroup" aria-label="Availability">
          <label>
            <input type="radio" name="away" checked={!away} onChange={() => setAway(false)} /> Available
          </label>
          <label>
            <input type="radio" name="away" checked={away} onChange={() => setAway(true)} /> Away
          </label>
        </div>
        {away ? (
          <Field id="member-away-until" label="Back at (optional)" error={error}>
            {(p) => <input {...p} type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />}
          </Field>
        ) : null}
        <button type="submit" disabled={save.isPending}>
          Set availability
        </button>
      </div>
      <Problem error={save.error} title="Could not change the availability" />
    </form>
  );
}
