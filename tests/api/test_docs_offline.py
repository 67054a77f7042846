def test_api_docs_load_their_viewer_from_our_own_static_files(client_for, people):
    """No CDN at run time: the Swagger UI comes with django-ninja and is served from /static/."""
    html = client_for(people["tax_member"]).get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "https://" not in html.split("<body")[0]
