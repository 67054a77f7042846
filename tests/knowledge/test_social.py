"""Comments, ratings and "this helped me": the services, the policy, mentions and moderation."""

from __future__ import annotations

import pytest

from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.consumers import run_pending
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from sharehub.knowledge import social
from sharehub.knowledge.models import Comment, Credit, Helped, Rating
from sharehub.org.models import User
from tests import factories


def told(user) -> list[str]:
    run_pending()
    return list(Notification.objects.filter(recipient=user).values_list("event__action", flat=True))


@pytest.fixture
def open_doc(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="纳税指南")


@pytest.fixture
def conditional(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="conditional", title="税源")


@pytest.fixture
def scoped(org_units, people):
    """Open, but only to 税务局 and 卫健委 (人社局 and 社保中心 cannot see it at all)."""
    return factories.resource(
        org_units["tax"], by=people["tax_steward"], scope=[org_units["tax"], org_units["health"]], title="局内"
    )


# --- comments -----------------------------------------------------------------------------------------------


def test_a_comment_tells_the_steward_and_is_one_event(open_doc, people):
    before = Event.objects.count()
    written = social.add_comment(people["health_member"], open_doc, "  很有用\r\n谢谢  ")
    assert written.comment.body == "很有用\n谢谢"
    assert Event.objects.count() == before + 1
    event = Event.objects.latest("seq")
    assert event.action == "comment.created"
    assert event.details["recipients"] == [people["tax_steward"].pk]
    assert "很有用" not in str(event.details)  # the text is content: never in the log or a notification
    assert told(people["tax_steward"]) == ["comment.created"]


def test_the_stewards_own_comment_tells_nobody(open_doc, people):
    social.add_comment(people["tax_steward"], open_doc, "更新了")
    assert Event.objects.latest("seq").details["recipients"] == []


@pytest.mark.parametrize("body", ["", "   ", "\x00bad", "x" * 5001, 12, None, "\ud800"])
def test_bad_bodies_are_refused_with_the_field(open_doc, people, body):
    with pytest.raises(Invalid) as caught:
        social.add_comment(people["health_member"], open_doc, body)
    assert "body" in caught.value.fields
    assert not Comment.objects.exists()


def test_invisible_controls_are_removed_and_5000_characters_fit(open_doc, people):
    written = social.add_comment(people["health_member"], open_doc, "a\u202eb\x07c" + "d" * 4997)
    assert written.comment.body.startswith("abcd") and len(written.comment.body) == 5000


def test_mentioned_readers_are_told_and_people_who_cannot_read_are_not(conditional, people, org_units):
    author = people["tax_member"]
    outsider = people["health_member"]  # sees the entry, may not read the content
    social.add_comment(author, conditional, f"@{outsider.username} @tax_steward 请看 @nobody_here")
    event = Event.objects.filter(action="comment.mentioned").get()
    assert event.details["recipients"] == [people["tax_steward"].pk]
    assert told(people["tax_steward"]) == ["comment.mentioned"]  # mentioned, so not told twice
    assert told(outsider) == []


def test_a_mention_of_someone_out_of_scope_tells_nobody(scoped, people):
    social.add_comment(people["tax_member"], scoped, "@social_member 你看看")
    assert not Event.objects.filter(action="comment.mentioned").exists()
    assert told(people["social_member"]) == []


def test_mentions_by_chinese_display_name_when_unambiguous(open_doc, org_units, people):
    zhang = factories.member(org_units["health"], username="zhangsan")
    User.objects.filter(pk=zhang.pk).update(display_name="张三")
    li1 = factories.member(org_units["health"], username="li_a")
    li2 = factories.member(org_units["hr"], username="li_b")
    User.objects.filter(pk__in=[li1.pk, li2.pk]).update(display_name="李四")
    written = social.add_comment(people["tax_member"], open_doc, "@张三你好，@李四 也看下")
    assert [p.pk for p in written.mentions.people] == [zhang.pk]
    assert written.mentions.ambiguous == ["李四"]
    assert told(zhang) == ["comment.mentioned"]
    assert told(li1) == [] and told(li2) == []


def test_an_email_address_or_url_is_not_a_mention(open_doc, people):
    written = social.add_comment(people["tax_member"], open_doc, "mail a@tax_steward.cn or https://x.cn/@tax_steward")
    assert written.mentions.people == []


def test_replies_thread_two_deep_and_deeper_ones_join_their_thread(open_doc, people):
    root = social.add_comment(people["health_member"], open_doc, "问题").comment
    first = social.add_comment(people["tax_steward"], open_doc, "回答", root.pk).comment
    second = social.add_comment(people["health_member"], open_doc, "追问", first.pk).comment
    third = social.add_comment(people["tax_member"], open_doc, "补充", second.pk).comment
    assert (first.parent_id, second.parent_id, third.parent_id) == (root.pk, first.pk, first.pk)
    assert third.body == "@health_member 补充"  # names whom it answers; they are told as mentioned
    assert "comment.mentioned" in told(people["health_member"])
    shown = social.threads(people["social_member"], open_doc, 0, 20)
    assert [t.comment.pk for t in shown] == [root.pk]
    assert [r.comment.pk for r in shown[0].replies] == [first.pk, second.pk, third.pk]
    assert shown[0].replies[1].answers.pk == first.pk


def test_a_reply_tells_the_author_of_the_comment_answered(open_doc, people):
    root = social.add_comment(people["health_member"], open_doc, "问题").comment
    social.add_comment(people["tax_member"], open_doc, "答", root.pk)
    assert told(people["health_member"]) == ["comment.created"]


def test_a_reply_to_a_comment_of_another_resource_is_refused(open_doc, org_units, people):
    other = factories.resource(org_units["tax"], by=people["tax_steward"])
    foreign = social.add_comment(people["tax_member"], other, "别处").comment
    with pytest.raises(Invalid) as caught:
        social.add_comment(people["tax_member"], open_doc, "x", foreign.pk)
    assert "parent" in caught.value.fields


def test_only_the_author_edits_and_new_mentions_are_told(open_doc, people):
    comment = social.add_comment(people["health_member"], open_doc, "初稿").comment
    comment = social.comment_of(people["health_member"], open_doc, comment.pk)
    with pytest.raises(Forbidden):
        social.edit_comment(people["tax_steward"], social.comment_of(people["tax_steward"], open_doc, comment.pk), "x")
    social.edit_comment(people["health_member"], comment, "改过 @tax_member")
    comment.refresh_from_db()
    assert comment.body == "改过 @tax_member" and comment.edited_at is not None
    assert told(people["tax_member"]) == ["comment.mentioned"]
    social.edit_comment(people["health_member"], comment, "改过 @tax_member 再改")
    assert told(people["tax_member"]) == ["comment.mentioned"]  # mentioned before: not told again


def test_stewards_hide_with_a_reason_and_the_text_stays_for_them_and_the_author(open_doc, people):
    comment = social.add_comment(people["health_member"], open_doc, "广告 spam").comment
    comment = social.comment_of(people["tax_member"], open_doc, comment.pk)
    with pytest.raises(Forbidden):
        social.hide_comment(people["tax_member"], comment, "spam")  # a member, not a steward
    with pytest.raises(Invalid):
        social.hide_comment(people["tax_steward"], comment, "  ")
    social.hide_comment(people["tax_steward"], comment, "广告")
    assert told(people["health_member"]) == ["comment.hidden"]
    for who, sees in (("tax_steward", True), ("health_member", True), ("tax_member", False), ("admin", True)):
        shown = social.threads(people[who], open_doc, 0, 20)[0]
        assert (shown.html is not None) is sees, who
    with pytest.raises(Forbidden):
        social.edit_comment(people["health_member"], comment, "改")  # a hidden comment stays as it was
    with pytest.raises(Invalid):
        social.add_comment(people["tax_member"], open_doc, "回复", comment.pk)
    social.unhide_comment(people["tax_steward"], comment)
    assert social.threads(people["tax_member"], open_doc, 0, 20)[0].html is not None


def test_someone_who_may_only_view_cannot_read_or_write_comments(conditional, people):
    social.add_comment(people["tax_member"], conditional, "内部讨论")
    viewer = people["health_member"]
    with pytest.raises(Forbidden):
        social.add_comment(viewer, conditional, "我也说")
    with pytest.raises(Forbidden):
        social.comment_of(viewer, conditional, Comment.objects.get().pk)


def test_a_missing_comment_is_not_found(open_doc, people):
    with pytest.raises(NotFound):
        social.comment_of(people["tax_member"], open_doc, "999999")
    with pytest.raises(NotFound):
        social.comment_of(people["tax_member"], open_doc, "abc")


def test_the_comment_html_escapes_and_links_safely(open_doc, people):
    html = social.body_html('<script>alert(1)</script> <img src=x onerror=alert(1)> https://a.cn/?q="x" @bob\nnext')
    assert "<script" not in html and "<img" not in html
    assert '<a href="https://a.cn/?q=" rel="nofollow noopener noreferrer">https://a.cn/?q=</a>&quot;x&quot;' in html
    breakout = social.body_html('https://a.cn/"onmouseover="alert(1)')
    assert 'href="https://a.cn/"' in breakout and "&quot;onmouseover=&quot;alert(1)" in breakout
    assert '<span class="sh-mention text-primary">@bob</span><br>next' in html
    assert "javascript:" not in social.body_html("javascript:alert(1)").split("javascript:alert(1)")[0]
    assert "<a" not in social.body_html("javascript:alert(1)")


# --- ratings ------------------------------------------------------------------------------------------------


def test_a_rating_is_one_per_person_changeable_and_not_useful_needs_a_reason(open_doc, people):
    rater = people["health_member"]
    with pytest.raises(Invalid) as caught:
        social.set_rating(rater, open_doc, False, " ")
    assert "reason" in caught.value.fields
    with pytest.raises(Invalid):
        social.set_rating(rater, open_doc, "maybe", "")
    social.set_rating(rater, open_doc, True)
    social.set_rating(rater, open_doc, False, "数据过时")
    assert Rating.objects.get().useful is False
    assert Rating.objects.count() == 1
    summary = social.rating_summary(rater, open_doc)
    assert (summary["useful"], summary["not_useful"], summary["mine"]) == (
        0,
        1,
        {"useful": False, "reason": "数据过时"},
    )
    assert summary["reasons"] is None  # not a steward
    social.forget_counts(open_doc)
    reasons = social.rating_summary(people["tax_steward"], open_doc)["reasons"]
    assert [(r.user_id, r.reason) for r in reasons] == [(rater.pk, "数据过时")]
    assert social.clear_rating(rater, open_doc) is True
    assert not Rating.objects.exists()
    assert list(
        Event.objects.filter(action__startswith="rating.").order_by("seq").values_list("action", flat=True)
    ) == [
        "rating.set",
        "rating.set",
        "rating.cleared",
    ]


def test_viewers_see_counts_but_may_not_rate_what_they_cannot_read(conditional, people):
    social.set_rating(people["tax_member"], conditional, True)
    viewer = people["health_member"]
    with pytest.raises(Forbidden):
        social.set_rating(viewer, conditional, True)
    with pytest.raises(Forbidden):
        social.mark_helped(viewer, conditional, "")
    summary = social.rating_summary(viewer, conditional)
    assert summary["useful"] == 1 and summary["mine"] is None and summary["reasons"] is None
    assert social.helped_summary(viewer, conditional)["recent"] is None


# --- this helped me -------------------------------------------------------------------------------------------


def test_helped_credits_another_department_and_tells_the_owner(open_doc, people):
    social.mark_helped(people["health_member"], open_doc, "用于年度报表")
    credit = Credit.objects.get(kind="helped")
    assert (credit.kind, credit.item, credit.person_id) == (
        "helped",
        f"resource:{open_doc.pk}",
        people["tax_steward"].pk,
    )
    assert told(people["tax_steward"]) == ["helped.marked"]
    social.forget_counts(open_doc)
    summary = social.helped_summary(people["social_member"], open_doc)
    assert summary["count"] == 1 and [h.note for h in summary["recent"]] == ["用于年度报表"]


def test_helped_once_per_person_withdrawable_and_the_credit_goes_with_it(open_doc, people):
    marker = people["health_member"]
    social.mark_helped(marker, open_doc, "")
    social.mark_helped(marker, open_doc, "改了说明")
    assert Helped.objects.get().note == "改了说明"
    assert Credit.objects.filter(kind="helped").count() == 1
    assert social.withdraw_helped(marker, open_doc) is True
    assert not Helped.objects.exists() and not Credit.objects.filter(kind="helped").exists()
    assert social.withdraw_helped(marker, open_doc) is False


def test_same_department_helped_earns_nothing(open_doc, people):
    social.mark_helped(people["tax_member"], open_doc, "")
    assert Helped.objects.count() == 1 and not Credit.objects.filter(kind="helped").exists()
    assert Event.objects.latest("seq").details["credited"] is False


def test_helped_note_is_limited(open_doc, people):
    with pytest.raises(Invalid) as caught:
        social.mark_helped(people["health_member"], open_doc, "x" * 501)
    assert "note" in caught.value.fields


def test_every_action_reads_in_the_audit_log(open_doc, people):
    from sharehub.events import describe

    comment = social.add_comment(people["health_member"], open_doc, "@tax_member 看").comment
    comment = social.comment_of(people["tax_steward"], open_doc, comment.pk)
    social.hide_comment(people["tax_steward"], comment, "跑题")
    social.set_rating(people["health_member"], open_doc, False, "旧")
    social.mark_helped(people["health_member"], open_doc, "报表")
    rows = describe.describe(people["auditor"], list(Event.objects.filter(action__regex=r"^(comment|rating|helped)\.")))
    sentences = [r.sentence.text for r in rows]
    assert any("hid a comment" in s and "跑题" in s for s in sentences), sentences
    assert any("not useful" in s for s in sentences), sentences
    assert any("helped them" in s for s in sentences), sentences
