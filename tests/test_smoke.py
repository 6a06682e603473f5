import odm_dyn


def test_bundled_spec_loads():
    client = odm_dyn.Client("http://127.0.0.1:1")
    assert {"get_task_info", "publish_all_studies"} <= set(dir(client))
