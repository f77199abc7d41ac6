import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ConfirmDialog, DataTable, ErrorMessage, Loading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi, useSession } from '../../lib/session';
import { Field, NewKeyNotice } from './admin-ui';
import {
  isLastAdmin,
  KEY_ROLES,
  maskedKey,
  nameError,
  newKeyBody,
  ROLE_DESCRIPTIONS,
  sortKeys,
  SOURCE_LABELS,
  takesMember,
  type KeyRole,
  type KeyView,
  type NewKey,
} from './keys';
import type { Member } from './team-form';

type Pending = { kind: 'rotate' | 'revoke'; key: KeyView };

/** Keys: the list (never a key's value), create, rotate and revoke, each change confirmed and its new key shown once. */
export function KeysPanel() {
  const api = useApi();
  const { principal } = useSession();
  const client = useQueryClient();
  const keys = useQuery({ queryKey: ['admin', 'keys'], queryFn: () => api.get<{ keys: KeyView[] }>('/v1/admin/keys') });
  const [shown, setShown] = useState<NewKey>();
  const [pending, setPending] = useState<Pending>();
  const refresh = () => client.invalidateQueries({ queryKey: ['admin', 'keys'] });

  const rotate = useMutation({
    mutationFn: (k: KeyView) => api.post<NewKey>(`/v1/admin/keys/${encodeURIComponent(k.id)}/rotate`),
    onSuccess: (created, k) => {
      setShown(created);
      // the old key is the one signed in: asking again would sign out at once, before the new key is copied
      if (k.id !== principal?.keyId) void refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (k: KeyView) => api.delete(`/v1/admin/keys/${encodeURIComponent(k.id)}`),
    onSuccess: () => void refresh(),
  });

  const list = sortKeys(keys.data?.keys ?? []);
  // the engine does not record when a key was last used today: the column appears once it does
  const lastUsed = list.some((k) => k.lastUsedAt !== undefined);
  const confirm = () => {
    if (!pending) return;
    setPending(undefined);
    rotate.reset();
    revoke.reset();
    if (pending.kind === 'rotate') rotate.mutate(pending.key);
    else revoke.mutate(pending.key);
  };
  const own = (k: KeyView) => k.id === principal?.keyId;

  return (
    <>
      {shown ? <NewKeyNotice created={shown} onDone={() => setShown(undefined)} /> : null}
      <CreateKey
        onCreated={(created) => {
          setShown(created);
          void refresh();
        }}
      />
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Keys in force</h2>
        <ErrorMessage error={rotate.error} title="Could not rotate the key" />
        <ErrorMessage error={revoke.error} title="Could not revoke the key" />
        {revoke.isSuccess ? (
          <p role="status" className="notice">
            Key “{revoke.variables.name}” revoked: it no longer works.
          </p>
        ) : null}
        {keys.isPending ? <Loading label="Loading the keys…" /> : null}
        <ErrorMessage error={keys.error} title="Could not load the keys" />
        {keys.data ? (
          <DataTable
            caption={`${list.length} key${list.length === 1 ? '' : 's'} of the workspace`}
            filename="keys.csv"
            columns={['Name', 'Role', 'Member', 'Key', 'Created', ...(lastUsed ? ['Last used'] : []), 'Source', 'Actions']}
            csvRows={list.map((k) => [
              k.name,
              k.role,
              k.memberId ?? '',
              maskedKey(k),
              k.createdAt ?? '',
              ...(lastUsed ? [k.lastUsedAt ?? ''] : []),
              k.source,
              '',
            ])}
            rows={list.map((k) => [
              <>
                {k.name} {own(k) ? <span className="badge">this key</span> : null}
              </>,
              k.role,
              k.memberId ?? '—',
              <code key="masked">{maskedKey(k)}</code>,
              k.createdAt ? formatTime(k.createdAt) : 'at start-up',
              ...(lastUsed ? [k.lastUsedAt ? formatTime(k.lastUsedAt) : 'never'] : []),
              SOURCE_LABELS[k.source] ?? k.source,
              <div className="row-actions" key="actions">
                <button type="button" aria-label={`Rotate key ${k.name}`} onClick={() => setPending({ kind: 'rotate', key: k })}>
                  Rotate
                </button>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Revoke key ${k.name}`}
                  onClick={() => setPending({ kind: 'revoke', key: k })}
                >
                  Revoke
                </button>
              </div>,
            ])}
          />
        ) : null}
      </section>
      <ConfirmDialog
        open={pending !== undefined}
        title={pending ? `${pending.kind === 'rotate' ? 'Rotate' : 'Revoke'} key “${pending.key.name}”?` : ''}
        confirmLabel={pending?.kind === 'rotate' ? 'Rotate key' : 'Revoke key'}
        onConfirm={confirm}
        onCancel={() => setPending(undefined)}
      >
        {pending ? (
          <>
            <p>
              {pending.kind === 'rotate'
                ? `A new ${pending.key.role} key replaces ${maskedKey(pending.key)}, with its role, name and member. The old key stops working at once; the new one is shown once.`
                : `${maskedKey(pending.key)} (${pending.key.role}) stops working at once. This cannot be undone.`}
            </p>
            {own(pending.key) ? <p className="error">You are signed in with this key: the console will sign you out.</p> : null}
            {pending.kind === 'revoke' && isLastAdmin(pending.key, list) ? (
              <p className="error">This is the last admin key: the engine will refuse to revoke it.</p>
            ) : null}
          </>
        ) : null}
      </ConfirmDialog>
    </>
  );
}

function CreateKey({ onCreated }: { onCreated(created: NewKey): void }) {
  const api = useApi();
  const [role, setRole] = useState<KeyRole>('csm');
  const [name, setName] = useState('');
  const [memberId, setMemberId] = useState('');
  const members = useQuery({
    queryKey: ['admin', 'members'],
    queryFn: () => api.get<{ members: Member[]; revision: number }>('/v1/members'),
  });
  const create = useMutation({
    mutationFn: () => api.post<NewKey>('/v1/admin/keys', newKeyBody(role, name, memberId)),
    onSuccess: (created) => {
      setName('');
      setMemberId('');
      onCreated(created);
    },
  });
  const error = nameError(name);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!error) create.mutate();
  };
  return (
    <section aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create a key</h2>
      <form onSubmit={submit} className="panel" aria-labelledby="create-key-title">
        <div className="form-grid">
          <Field id="key-role" label="Role" hint={ROLE_DESCRIPTIONS[role]}>
            {(p) => (
              <select {...p} value={role} onChange={(e) => setRole(e.target.value as KeyRole)}>
                {KEY_ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="key-name" label="Name" hint="Who or what uses it, e.g. Sam (CSM)" error={error}>
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />}
          </Field>
          {takesMember(role) ? (
            <Field id="key-member" label="Member" hint="What the key does is recorded as this member's">
              {(p) => (
                <select {...p} value={memberId} onChange={(e) => setMemberId(e.target.value)}>
                  <option value="">No member</option>
                  {(members.data?.members ?? []).map((m) => (
                    <option key={m.memberId} value={m.memberId}>
                      {m.name} ({m.memberId})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
        </div>
        <ErrorMessage error={members.error} title="Could not load the members" />
        <ErrorMessage error={create.error} title="Could not create the key" />
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create key'}
        </button>
      </form>
    </section>
  );
}
