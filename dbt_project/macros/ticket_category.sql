{#-
    Support ticket category from tags first, then the subject (tags are set by agents
    and rules; subjects are what the customer wrote). First match wins, in this order:
      order_status      tags wismo, order-status, shipping, tracking, delivery;
                        subject "where is my order", "tracking", "not arrived", "shipping", "delivery"
      return_refund     tags return, refund, exchange; subject "return", "refund", "exchange"
      complaint         tags complaint, damaged, defect, wrong-item;
                        subject "damaged", "broken", "wrong item", "complaint", "disappointed"
      product_question  tags product-question, question, sizing, pre-sale;
                        subject "question", "size", "sizing", "does it", "how do", "ingredients"
      other             everything else
-#}
{% macro ticket_category(tags, subject) -%}
    case
        when regexp_matches(lower(coalesce({{ tags }}, '')), '(wismo|order[-_ ]status|shipping|tracking|delivery)')
            then 'order_status'
        when regexp_matches(lower(coalesce({{ tags }}, '')), '(return|refund|exchange)')
            then 'return_refund'
        when regexp_matches(lower(coalesce({{ tags }}, '')), '(complaint|damaged|defect|wrong[-_ ]item)')
            then 'complaint'
        when regexp_matches(lower(coalesce({{ tags }}, '')), '(product[-_ ]question|question|sizing|pre[-_ ]?sale)')
            then 'product_question'
        when regexp_matches(lower(coalesce({{ subject }}, '')), '(where is my order|tracking|not arrived|shipping|delivery|shipped)')
            then 'order_status'
        when regexp_matches(lower(coalesce({{ subject }}, '')), '(return|refund|exchange)')
            then 'return_refund'
        when regexp_matches(lower(coalesce({{ subject }}, '')), '(damaged|broken|wrong item|complaint|disappointed)')
            then 'complaint'
        when regexp_matches(lower(coalesce({{ subject }}, '')), '(question|size|sizing|does it|how do|ingredients)')
            then 'product_question'
        else 'other'
    end
{%- endmacro %}
