# The vendor's documented example pattern for SampleSPoTAsUserApi.get_sample_versions_as_user,
# with only the package name changed from odm_api to odm_dyn. It needs the vendor's spec as
# the surface's (the test sets ODM_DYN_SPEC) and runs with the host and id filled in.
import os

import odm_dyn
from odm_dyn.models.commit_info import CommitInfo
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
    api_instance = odm_dyn.SampleSPoTAsUserApi(api_client)
    id = 'id_example'

    try:
        api_response = api_instance.get_sample_versions_as_user(id)
        print("The response of SampleSPoTAsUserApi->get_sample_versions_as_user:\n")
        pprint(api_response)
    except Exception as e:
        print("Exception when calling SampleSPoTAsUserApi->get_sample_versions_as_user: %s\n" % e)
