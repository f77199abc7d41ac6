import { Route, Routes } from 'react-router';
import { CustomerPage } from './customer';
import './customers.css';
import { ExplainPage } from './explain';
import { CustomerList } from './list';

/** The customers area: search, a customer's page (timeline as of, upcoming, inbox, why-not), a message's explanation. */
export default function CustomersArea() {
  return (
    <Routes>
      <Route index element={<CustomerList />} />
      <Route path=":id" element={<CustomerPage />} />
      <Route path=":id/messages/:messageId" element={<ExplainPage />} />
    </Routes>
  );
}
