{#-
    One row per ticket from Zendesk and Gorgias. The customer is the requester's normalised
    email; the order is linked when the subject names an order number that exists
    (e.g. "Where is my order #1042?"). Category rules: macros/ticket_category.sql.
-#}
with tickets as (
    select * from {{ ref('int_tickets_unioned') }}
),

orders as (
    select order_id, order_name from {{ ref('fct_orders') }}
),

customers as (
    select customer_id from {{ ref('dim_customers') }}
)

select
    tickets.ticket_id,
    tickets.helpdesk,
    tickets.helpdesk_ticket_id,
    customers.customer_id,
    orders.order_id,
    orders.order_name,
    tickets.category,
    tickets.channel,
    tickets.status,
    tickets.tags,
    tickets.created_at,
    tickets.created_date,
    tickets.solved_at,
    tickets.first_reply_minutes,
    tickets.full_resolution_minutes,
    tickets.is_satisfied,
    tickets.reopens,
    tickets.replies,
    tickets.solved_at is not null as is_solved
from tickets
left join customers on customers.customer_id = {{ hash_email('tickets.email_normalised') }}
left join orders on orders.order_name = '#' || tickets.mentioned_order_number
