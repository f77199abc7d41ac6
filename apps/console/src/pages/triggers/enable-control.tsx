import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ConfirmDialog, ErrorMessage } from '../../components/ui';
import { ApiError } from '../../lib/api';
import { useApi, useCan } from '../../lib/session';
import { dryRunImpact } from './actions-api';
import { impactSentence, policyRefusal, type TriggerImpact } from './actions-logic';
import './actions-panels.css';

interface Change {
  triggerId: string;
  version: number;
  enabled: boolean;
  changed: boolean;
}

/**
 * Enable / Disable (editTriggers; hidden for analysts). Enabling first runs the dry-run and asks for confirmation
 * stating its impact; a refusal by the workspace policy (422) is shown in words, with an admin's "Enable anyway"
 * (force, recorded on the event as a policy override).
 */
export function EnableControl({ triggerId, enabled: given, onChanged }: { triggerId: string; enabled: boolean; onChanged(): void }) {
  const api = useApi();
  const canEdit = useCan('editTriggers');
  const isAdmin = useCan('admin');
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<'enable' | 'disable'>();
  const [done, setDone] = useState<string>();
  // what the last change answered, until the page's own `enabled` moves (a refetch may still answer the old state)
  const [changedTo, setChangedTo] = useState<{ given: boolean; enabled: boolean }>();
  const enabled = changedTo && changedTo.given === given ? changedTo.enabled : given;
  const path = `/v1/triggers/${encodeURIComponent(triggerId)}`;

  const impact = useMutation({ mutationFn: () => dryRunImpact(api, triggerId) });
  const changed = (message: string, now: boolean) => {
    setDone(message);
    setChangedTo({ given, enabled: now });
    setConfirm(undefined);
    void queryClient.invalidateQueries({ queryKey: ['trigger', triggerId] });
    onChanged();
  };
  const enable = useMutation({
    mutationFn: (force: boolean) => api.post<Change>(`${path}/enable`, undefined, { query: { force: force ? 'true' : undefined } }),
    onSuccess: (change, force) =>
      changed(
        `Enabled version ${change.version}${force ? ' anyway: the policy override is recorded on the trigger’s history' : ''}.`,
        change.enabled,
      ),
    onError: () => setConfirm(undefined),
  });
  const disable = useMutation({
    mutationFn: () => api.post<Change>(`${path}/disable`),
    onSuccess: () => changed('Disabled: no new runs; active runs end.', false),
    onError: () => setConfirm(undefined),
  });

  if (!canEdit) return null;

  const startEnable = () => {
    setDone(undefined);
    enable.reset();
    impact.reset();
    setConfirm('enable');
    impact.mutate();
  };
  const refusal = enable.error instanceof ApiError && enable.error.status === 422 ? policyRefusal(enable.error.body) : undefined;
  const busy = impact.isPending || enable.isPending || disable.isPending;

  return (
    <div className="actions-enable">
      {enabled ? (
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => {
            setDone(undefined);
            disable.reset();
            setConfirm('disable');
          }}
        >
          Disable
        </button>
      ) : (
        <button type="button" className="primary" disabled={busy} onClick={startEnable}>
          {impact.isPending ? 'Estimating the impact…' : 'Enable'}
        </button>
      )}
      {done ? (
        <span role="status" className="muted">
          {done}
        </span>
      ) : null}
      {refusal ? (
        <div role="alert" className="error">
          <strong>The workspace policy refused to enable {triggerId}: </strong>
          {refusal.message}
          {isAdmin ? (
            <p>
              <button type="button" className="danger" disabled={busy} onClick={() => enable.mutate(true)}>
                Enable anyway
              </button>{' '}
              (as an admin: recorded on the trigger as a policy override)
            </p>
          ) : (
            <p>An admin can enable it anyway.</p>
          )}
        </div>
      ) : (
        <ErrorMessage error={enable.error} title="Could not enable" />
      )}
      <ErrorMessage error={disable.error} title="Could not disable" />
      {confirm === 'enable' && impact.error ? (
        <ErrorMessage error={impact.error} title="Could not estimate the impact (nothing was enabled)" />
      ) : null}
      {confirm === 'enable' && impact.data ? (
        <ConfirmDialog
          open
          title={`Enable ${triggerId}?`}
          confirmLabel="Enable"
          onConfirm={() => enable.mutate(false)}
          onCancel={() => setConfirm(undefined)}
        >
          <ImpactStatement answer={impact.data} />
        </ConfirmDialog>
      ) : null}
      {confirm === 'disable' ? (
        <ConfirmDialog
          open
          title={`Disable ${triggerId}?`}
          confirmLabel="Disable"
          onConfirm={() => disable.mutate()}
          onCancel={() => setConfirm(undefined)}
        >
          <p>Disabling {triggerId} starts no new runs, and its active runs end: messages they would still send are not sent.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function ImpactStatement({ answer }: { answer: TriggerImpact }) {
  return (
    <>
      <p data-testid="enable-impact">{impactSentence(answer, 'enable')}</p>
      {answer.policy?.exceeded ? (
        <p className="error">
          Its busiest day ({answer.policy.estimate.peak}) is over the workspace limit of {answer.policy.limit} a day: the engine will refuse
          it unless an admin enables it anyway.
        </p>
      ) : null}
    </>
  );
}
