-- Questions and answers on products (docs/reviews.md, "Questions").

create table qa_threads (
    id         uuid primary key,
    product_id uuid not null references products (id) on delete restrict,
    seller_id  uuid not null references users (id) on delete restrict,
    author_id  uuid not null references users (id) on delete restrict,
    subject    text not null constraint qa_threads_subject_length check (char_length(subject) <= 180),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index qa_threads_product_idx on qa_threads (product_id, updated_at desc, id desc);

create table qa_messages (
    id         uuid primary key,
    thread_id  uuid not null references qa_threads (id) on delete restrict,
    author_id  uuid not null references users (id) on delete restrict,
    body       text not null constraint qa_messages_body_length check (char_length(body) between 1 and 5000),
    created_at timestamptz not null,
    deleted_at timestamptz,
    deleted_by uuid references users (id) on delete restrict
);
create index qa_messages_thread_idx on qa_messages (thread_id, created_at, id);
