/** The work area's reads of the engine (members, teams, a customer's context) and a clock that ticks. */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useApi } from '../../lib/session';

export interface Member {
  memberId: string;
  name?: string;
  email?: string;
  teams: string[];
  away?: boolean;
}

export interface Team {
  teamId: string;
  name?: string;
  timeZone?: string;
  lead?: string;
}

export interface OpenTask {
  taskId: string;
  title: string;
  owner?: string;
  priority?: string;
  dueAt?: string;
  triggerId?: string;
  openedAt: string;
}

export interface ContextConversation {
  conversationId: string;
  status: string;
  channel: string;
  subject?: string;
  team?: string;
  assignee?: string;
  priority: string;
  waitingOn: string;
  messages: number;
  lastMessage?: { from: string; body: string; at: string; by?: string };
  resolvedAt?: string;
  rating?: { score: number; comment?: string };
}

/** GET /v1/customers/:id/context. */
export interface CustomerContext {
  customerId: string;
  stage: string | null;
  stageSince: string | null;
  traits: Record<string, unknown>;
  accountTraits: Record<string, Record<string, unknown>>;
  health: number;
  firstSeen: string | null;
  lastSeen: string | null;
  interactions: { type: string; name: string | null; kind?: string; at: string; properties: Record<string, unknown> }[];
  openTasks: OpenTask[];
  openConversations: ContextConversation[];
  earlierConversations: ContextConversation[];
  recentMessages: { messageId: string; channel: string; subject?: string; deliveredAt: string; triggerId?: string }[];
}

export function useMembers() {
  const api = useApi();
  return useQuery({
    queryKey: ['members'],
    queryFn: () => api.get<{ members: Member[] }>('/v1/members'),
    staleTime: 60_000,
  });
}

export function useTeams() {
  const api = useApi();
  return useQuery({
    queryKey: ['teams'],
    queryFn: () => api.get<{ teams: Team[] }>('/v1/teams'),
    staleTime: 60_000,
  });
}

export function useCustomerContext(customerId: string) {
  const api = useApi();
  return useQuery({
    queryKey: ['context', customerId],
    queryFn: () => api.get<CustomerContext>(`/v1/customers/${encodeURIComponent(customerId)}/context`),
  });
}

/** The time now, updated every `ms` (one interval per component that asks). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
