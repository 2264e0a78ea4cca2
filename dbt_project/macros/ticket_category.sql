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
    {%- set tags_text = "lower(coalesce(" ~ tags ~ ", ''))" -%}
    {%- set subject_text = "lower(coalesce(" ~ subject ~ ", ''))" -%}
    case
        when {{ regex_contains(tags_text, '(wismo|order[-_ ]status|shipping|tracking|delivery)') }}
            then 'order_status'
        when {{ regex_contains(tags_text, '(return|refund|exchange)') }}
            then 'return_refund'
        when {{ regex_contains(tags_text, '(complaint|damaged|defect|wrong[-_ ]item)') }}
            then 'complaint'
        when {{ regex_contains(tags_text, '(product[-_ ]question|question|sizing|pre[-_ ]?sale)') }}
            then 'product_question'
        when {{ regex_contains(subject_text, '(where is my order|tracking|not arrived|shipping|delivery|shipped)') }}
            then 'order_status'
        when {{ regex_contains(subject_text, '(return|refund|exchange)') }}
            then 'return_refund'
        when {{ regex_contains(subject_text, '(damaged|broken|wrong item|complaint|disappointed)') }}
            then 'complaint'
        when {{ regex_contains(subject_text, '(question|size|sizing|does it|how do|ingredients)') }}
            then 'product_question'
        else 'other'
    end
{%- endmacro %}
