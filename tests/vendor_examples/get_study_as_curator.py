# The vendor's documented example pattern for StudySPoTAsCuratorApi.get_study_as_curator,
# with only the package name changed from odm_api to odm_dyn. It needs the vendor's spec as
# the surface's (the test sets ODM_DYN_SPEC) and runs with the host and id filled in.
import os

import odm_dyn
from odm_dyn.models.study import Study
from odm_dyn.rest import ApiException
from pprint import pprint

# Defining the host is optional and defaults to http://localhost
# See configuration.py for a list of all supported configuration parameters.
configuration = odm_dyn.Configuration(
    host = "http://localhost"
)

# Configure API key authorization: Access-token
configuration.api_key['Access-token'] = os.environ["API_KEY"]

# Configure API key authorization: Genestack-API-Token
configuration.api_key['Genestack-API-Token'] = os.environ["API_KEY"]

# Enter a context with an instance of the API client
with odm_dyn.ApiClient(configuration) as api_client:
    # Create an instance of the API class
    api_instance = odm_dyn.StudySPoTAsCuratorApi(api_client)
    id = 'id_example'
    response_format = 'term_id'
    returned_metadata_fields = 'minimal_data'

    try:
        api_response = api_instance.get_study_as_curator(id, response_format=response_format, returned_metadata_fields=returned_metadata_fields)
        print("The response of StudySPoTAsCuratorApi->get_study_as_curator:\n")
        pprint(api_response)
    except Exception as e:
        print("Exception when calling StudySPoTAsCuratorApi->get_study_as_curator: %s\n" % e)
