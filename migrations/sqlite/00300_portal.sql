-- +goose Up
-- Web sessions (alexedwards/scs store over our own database): the token is
-- the cookie's value, data is scs's encoded blob, expiry in UTC.
CREATE TABLE web_sessions (
  token TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  expiry TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions(expiry);

-- Subscriber requests: a question, a fault, a package to connect or
-- disconnect. Operators answer; every message of the thread is a row.
CREATE TABLE support_requests (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL CHECK (kind IN ('question', 'fault', 'connect', 'disconnect', 'other')),
  subject TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'answered', 'closed')),
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE INDEX support_requests_account ON support_requests(account_id, created_at);
CREATE INDEX support_requests_status ON support_requests(status, updated_at);

CREATE TABLE support_messages (
  id INTEGER PRIMARY KEY,
  request_id BIGINT NOT NULL REFERENCES support_requests(id),
  author TEXT NOT NULL CHECK (author IN ('subscriber', 'operator')),
  operator TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);
CREATE INDEX support_messages_request ON support_messages(request_id, id);

-- Consultant chat: one running conversation per account.
CREATE TABLE chat_messages (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  author TEXT NOT NULL CHECK (author IN ('subscriber', 'operator')),
  operator TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  read_at TIMESTAMP
);
CREATE INDEX chat_messages_account ON chat_messages(account_id, id);

-- Connection applications from the public site: a visitor's name and phone.
CREATE TABLE connection_applications (
  id INTEGER PRIMARY KEY,
  city_id BIGINT REFERENCES cities(id),
  tariff_code TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  phone TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'called', 'contracted', 'rejected')),
  operator TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE INDEX connection_applications_status ON connection_applications(status, created_at);

-- News and promotions, shown from published_at until expires_at (NULL: no
-- end), to every city (city_id NULL) or one.
CREATE TABLE content_items (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('news', 'promo')),
  title TEXT NOT NULL,
  title_en TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  body_en TEXT NOT NULL DEFAULT '',
  city_id BIGINT REFERENCES cities(id),
  published_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL
);
CREATE INDEX content_items_published ON content_items(published_at);

-- +goose Down
DROP TABLE content_items;
DROP TABLE connection_applications;
DROP TABLE chat_messages;
DROP TABLE support_messages;
DROP TABLE support_requests;
DROP TABLE web_sessions;
