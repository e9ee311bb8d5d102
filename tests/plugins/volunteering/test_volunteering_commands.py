"""``portal volunteering demo``, ``remind`` and ``import``; the data-protection export and erasure."""
from volunteering_helpers import rows


def test_demo_then_remind(app, runner, users, make_beneficiary):
    from plugins.volunteering.models import Assignment, HoursLog, Opportunity, Service, Volunteer

    make_beneficiary()
    result = runner.invoke(args=["volunteering", "demo"])
    assert result.exit_code == 0, result.output
    assert "volunteers: 10" in result.output
    assert len(rows(app, Volunteer)) == 10 and len(rows(app, Opportunity)) == 3
    assert rows(app, HoursLog) and all(h.state == "approved" for h in rows(app, HoursLog))
    assert len(rows(app, Service)) == 1 and rows(app, Assignment)
    again = runner.invoke(args=["volunteering", "demo"])
    assert "skipped" in again.output and len(rows(app, Volunteer)) == 10
    remind = runner.invoke(args=["volunteering", "remind"])
    assert remind.exit_code == 0 and "not_sent:" in remind.output
    imported = runner.invoke(args=["volunteering", "import"])
    assert imported.exit_code == 0 and "imported: 0" in imported.output


def test_export_and_erasure(app, users, make_beneficiary, make_volunteer, make_opportunity, make_assignment, in_db):
    from plugins.volunteering import privacy
    from plugins.volunteering import service as svc
    from plugins.volunteering.models import Assignment, Service, Volunteer
    from portal.models import Beneficiary

    ben = make_beneficiary(mobile="0554443332")
    vol = make_volunteer(mobile="0554443332")
    opp = make_opportunity(days=-1)
    assign_id, _token = make_assignment(opp, vol, "attended")
    with in_db():
        b = Beneficiary.get_by_id(ben)
        svc.link_file(Volunteer.get_by_id(vol), b, actor=None)
        svc.record_service(Assignment.get_by_id(assign_id), beneficiary=b, note="زيارة منزلية", actor=None)
        data = privacy.beneficiary_data(b)
        assert data["data"]["services"][0]["note"] == "زيارة منزلية" and data["data"]["volunteer"][0]["id"] == vol
        privacy.anonymise_beneficiary(b, None)
        assert Service.get().note == "" and Volunteer.get_by_id(vol).beneficiary_id is None
