import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { ConfirmDialog, DataTable, ErrorMessage, Loading } from '../../components/ui';
import { useApi } from '../../lib/session';
import { Field } from './admin-ui';
import {
  formFromSettings,
  missingSecrets,
  SECRET_SETTINGS,
  secretErrors,
  secretUses,
  settingsConflict,
  settingsFromForm,
  type FieldErrors,
  type SettingsAnswer,
  type SettingsField,
  type SettingsForm,
  type WorkspaceSettings,
} from './settings-form';

const SETTINGS = ['admin', 'settings'];
const PATH = '/v1/admin/workspace/settings';

/** Workspace settings and named secrets (values are write-only: never shown back). */
export function SettingsPanel() {
  const api = useApi();
  const client = useQueryClient();
  const settings = useQuery({ queryKey: SETTINGS, queryFn: () => api.get<SettingsAnswer>(PATH) });
  // a reload (after a conflict) starts the form again from the document read
  const [generation, setGeneration] = useState(0);
  const reload = async () => {
    await client.refetchQueries({ queryKey: SETTINGS });
    setGeneration((g) => g + 1);
  };
  return (
    <>
      {settings.isPending ? <Loading label="Loading the workspace settings…" /> : null}
      <ErrorMessage error={settings.error} title="Could not load the workspace settings" />
      {settings.data ? (
        <>
          <SettingsEditor key={generation} answer={settings.data} onReload={reload} />
          <Secrets answer={settings.data} />
          <section aria-labelledby="quiet-title">
            <h2 id="quiet-title">Quiet hours</h2>
            <p className="muted">
              The engine keeps quiet hours per trigger (<code>guards.quietHours</code>, in the customer&apos;s time zone) and per broadcast;
              the workspace settings hold no default for them. Set them in each trigger&apos;s document.
            </p>
          </section>
        </>
      ) : null}
    </>
  );
}

function SettingsEditor({ answer, onReload }: { answer: SettingsAnswer; onReload(): Promise<void> }) {
  const api = useApi();
  const client = useQueryClient();
  const loaded = useRef<WorkspaceSettings>(answer.settings);
  const [form, setForm] = useState<SettingsForm>(() => formFromSettings(answer.settings));
  const [errors, setErrors] = useState<FieldErrors<SettingsField>>({});
  const [conflict, setConflict] = useState<string>();
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: async (doc: WorkspaceSettings) => {
      // the settings endpoint takes no If-Match: read them again, and refuse when someone else changed them
      const current = await api.get<SettingsAnswer>(PATH);
      const words = settingsConflict(loaded.current, current);
      if (words) {
        setConflict(words);
        return undefined;
      }
      return api.put<SettingsAnswer>(PATH, doc);
    },
    onSuccess: (next) => {
      if (!next) return;
      loaded.current = next.settings;
      setForm(formFromSettings(next.settings));
      setSaved(true);
      client.setQueryData(SETTINGS, next);
    },
  });
  const set = (k: SettingsField, v: string) => {
    setSaved(false);
    setForm((f) => ({ ...f, [k]: v }));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setConflict(undefined);
    setSaved(false);
    const { settings, errors } = settingsFromForm(form, loaded.current);
    setErrors(errors);
    if (settings) save.mutate(settings);
  };
  const text = (field: SettingsField, label: string, hint?: string) => (
    <Field id={`setting-${field}`} label={label} hint={hint} error={errors[field]}>
      {(p) => <input {...p} value={form[field]} onChange={(e) => set(field, e.target.value)} />}
    </Field>
  );
  const secret = (field: SettingsField) => {
    const { label, path } = SECRET_SETTINGS.find((s) => s.field === field)!;
    const names = [...new Set([...answer.secrets, ...(form[field] ? [form[field]] : [])])].sort();
    return (
      <Field id={`setting-${field}`} label={label} hint={<code>{path}</code>} error={errors[field]}>
        {(p) => (
          <select {...p} value={form[field]} onChange={(e) => set(field, e.target.value)}>
            <option value="">Not set</option>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
                {answer.secrets.includes(n) ? '' : ' (not set yet)'}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  };
  const missing = missingSecrets(answer.settings, answer.secrets);
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <form onSubmit={submit} noValidate className="panel" aria-labelledby="settings-title">
        {missing.length ? (
          <p className="notice">
            Settings name secrets the workspace does not hold yet: {missing.join(', ')}. Set them below; until then what uses them does not
            work.
          </p>
        ) : null}
        <fieldset>
          <legend>In-app messages</legend>
          <div className="form-grid">
            <Field
              id="setting-allowedOrigins"
              label="Allowed origins"
              hint="Browser origins that may call the in-app endpoints, one per line, like https://app.example.com"
              error={errors.allowedOrigins}
            >
              {(p) => <textarea {...p} value={form.allowedOrigins} onChange={(e) => set('allowedOrigins', e.target.value)} rows={4} />}
            </Field>
            {secret('identitySecret')}
          </div>
        </fieldset>
        <fieldset>
          <legend>Email</legend>
          <div className="form-grid">
            {text('replyDomain', 'Reply domain', 'Reply addresses are reply+<token>@ this domain')}
            {secret('inboundSecret')}
            {secret('replySecret')}
          </div>
        </fieldset>
        <fieldset>
          <legend>Slack</legend>
          <div className="form-grid">
            {secret('slackWebhookUrl')}
            {secret('slackSigningSecret')}
          </div>
        </fieldset>
        <fieldset>
          <legend>Change policy</legend>
          <div className="form-grid">
            {text(
              'maxDailyMessagesOnEnable',
              'Most messages a day on enable',
              'An enable whose dry run sends more on its busiest day is refused; empty: no limit',
            )}
            {text('policyPeriod', 'Dry-run period', 'A duration from 1d to 90d, default 7d')}
          </div>
        </fieldset>
        {conflict ? (
          <div role="alert" className="error">
            <strong>Not saved: </strong>
            {conflict}{' '}
            <button type="button" className="link" onClick={() => void onReload()}>
              Reload the settings
            </button>
          </div>
        ) : null}
        {Object.keys(errors).length ? (
          <p role="alert" className="field-error">
            Nothing was saved: {Object.keys(errors).length} field{Object.keys(errors).length === 1 ? ' needs' : 's need'} a change (see
            beside {Object.keys(errors).length === 1 ? 'it' : 'them'}).
          </p>
        ) : null}
        <ErrorMessage error={save.error} title="The engine refused the settings" />
        {saved ? (
          <p role="status" className="notice">
            Settings saved (revision {answer.revision}).
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save settings'}
        </button>
      </form>
    </section>
  );
}

function Secrets({ answer }: { answer: SettingsAnswer }) {
  const api = useApi();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [errors, setErrors] = useState<FieldErrors<'name' | 'value'>>({});
  const [removing, setRemoving] = useState<string>();
  const [done, setDone] = useState<string>();
  const valueRef = useRef<HTMLInputElement>(null);
  const uses = secretUses(answer.settings);
  const refresh = () => client.invalidateQueries({ queryKey: SETTINGS });
  const put = useMutation({
    mutationFn: (s: { name: string; value: string }) =>
      api.put(`/v1/admin/workspace/secrets/${encodeURIComponent(s.name)}`, { value: s.value }),
    onSuccess: (_, s) => {
      setDone(`Secret “${s.name}” ${answer.secrets.includes(s.name) ? 'replaced' : 'set'}. Its value is not shown again.`);
      setName('');
      setValue('');
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (n: string) => api.delete(`/v1/admin/workspace/secrets/${encodeURIComponent(n)}`),
    onSuccess: (_, n) => {
      setDone(`Secret “${n}” removed.`);
      void refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    const errors = secretErrors(name, value);
    setErrors(errors);
    if (!Object.keys(errors).length) put.mutate({ name: name.trim(), value });
  };
  return (
    <section aria-labelledby="secrets-title">
      <h2 id="secrets-title">Secrets</h2>
      <p className="muted">
        Settings and webhook steps name secrets (<code>{'{{ secrets.crm_token }}'}</code>); values are write-only and never shown back.
      </p>
      {done ? (
        <p role="status" className="notice">
          {done}
        </p>
      ) : null}
      <ErrorMessage error={remove.error} title="Could not remove the secret" />
      <DataTable
        caption={`${answer.secrets.length} secret${answer.secrets.length === 1 ? '' : 's'} (names only)`}
        filename="secrets.csv"
        columns={['Name', 'Used by', 'Actions']}
        csvRows={answer.secrets.map((n) => [n, (uses.get(n) ?? []).join('; '), ''])}
        rows={answer.secrets.map((n) => [
          <code key="name">{n}</code>,
          (uses.get(n) ?? []).join(', ') || '—',
          <div className="row-actions" key="actions">
            <button
              type="button"
              aria-label={`Replace secret ${n}`}
              onClick={() => {
                setName(n);
                setValue('');
                setDone(undefined);
                valueRef.current?.focus();
              }}
            >
              Replace
            </button>
            <button type="button" className="danger" aria-label={`Remove secret ${n}`} onClick={() => setRemoving(n)}>
              Remove
            </button>
          </div>,
        ])}
      />
      <form onSubmit={submit} noValidate className="panel" aria-labelledby="secret-form-title">
        <h3 id="secret-form-title">Set or replace a secret</h3>
        <div className="form-grid">
          <Field id="secret-name" label="Secret name" hint="A letter, then letters, digits or _" error={errors.name}>
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
          </Field>
          <Field id="secret-value" label="Secret value" hint="Not shown again once saved" error={errors.value}>
            {(p) => (
              <input
                {...p}
                ref={valueRef}
                type="password"
                value={value}
                onChange={(e) => setValue(e.target.value)}
                autoComplete="new-password"
              />
            )}
          </Field>
        </div>
        <ErrorMessage error={put.error} title="Could not save the secret" />
        <button type="submit" className="primary" disabled={put.isPending}>
          {put.isPending ? 'Saving…' : 'Save secret'}
        </button>
      </form>
      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove secret “${removing ?? ''}”?`}
        confirmLabel="Remove secret"
        onCancel={() => setRemoving(undefined)}
        onConfirm={() => {
          if (removing === undefined) return;
          setRemoving(undefined);
          setDone(undefined);
          remove.mutate(removing);
        }}
      >
        <p>
          {removing && uses.get(removing)?.length
            ? `It is used by: ${uses.get(removing)!.join(', ')}. Those stop working until it is set again.`
            : 'Nothing in the settings names it; webhook steps that use it will fail.'}
        </p>
      </ConfirmDialog>
    </section>
  );
}
