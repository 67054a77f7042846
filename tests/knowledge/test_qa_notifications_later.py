"""A notification about a private question does not name it to someone who no longer sees it (invariant 10)."""

from sharehub.events.consumers import run_pending
from sharehub.feeds import queries as feeds
from sharehub.feeds.models import Notification
from sharehub.knowledge import qa
from sharehub.org import services as org


def test_a_leaver_no_longer_reads_the_private_question_in_old_notifications(people, org_units):
    asker, steward = people["social_member"], people["tax_steward"]
    question = qa.ask_question(asker, title="绝密的补缴名单怎么核对", department=org_units["tax"], private=True)
    run_pending()
    told = Notification.objects.filter(recipient=steward).select_related("event")
    ((sentence, _link),) = [row[1:] for row in feeds.shown(steward, told)]
    assert question.title in sentence

    org.remove_membership(people["admin"], steward, org_units["tax"])
    steward.refresh_from_db()
    ((sentence, link),) = [row[1:] for row in feeds.shown(steward, Notification.objects.filter(recipient=steward))]
    assert question.title not in sentence and link == ""
