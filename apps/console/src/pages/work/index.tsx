import { Route, Routes } from 'react-router';
import { ConversationPage } from './conversation';
import { QueuePage } from './queue';
import { TaskPage } from './task';
import './work.css';

/** The work area: the queue (/work), a conversation and a task of a customer. */
export default function WorkArea() {
  return (
    <div className="work-area">
      <Routes>
        <Route index element={<QueuePage />} />
        <Route path="customers/:customerId/conversations/:conversationId" element={<ConversationPage />} />
        <Route path="customers/:customerId/tasks/:taskId" element={<TaskPage />} />
      </Routes>
    </div>
  );
}
