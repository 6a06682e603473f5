# The vendor's documented example for TasksAPIApi.get_task_info, with only the package name
# changed from odm_api to odm_dyn (the spec-derived comments are left out). The test runs it
# with the host and id filled in.
import os

import odm_dyn
from odm_dyn.models.task_info import TaskInfo
from odm_dyn.rest import ApiException
from pprint import pprint

# Defining the host is optional and defaults to http://localhost
# See configuration.py for a list of all supported configuration parameters.
configuration = odm_dyn.Configuration(
    host = "http://localhost"
)

# The client must configure the authentication and authorization parameters
# in accordance with the API server security policy.
# Examples for each auth method are provided below, use the example that
# satisfies your auth use case.

# Configure API key authorization: Access-token
configuration.api_key['Access-token'] = os.environ["API_KEY"]

# Uncomment below to setup prefix (e.g. Bearer) for API key, if needed
# configuration.api_key_prefix['Access-token'] = 'Bearer'

# Configure API key authorization: Genestack-API-Token
configuration.api_key['Genestack-API-Token'] = os.environ["API_KEY"]

# Uncomment below to setup prefix (e.g. Bearer) for API key, if needed
# configuration.api_key_prefix['Genestack-API-Token'] = 'Bearer'

# Enter a context with an instance of the API client
with odm_dyn.ApiClient(configuration) as api_client:
    # Create an instance of the API class
    api_instance = odm_dyn.TasksAPIApi(api_client)
    id = 'id_example'

    try:
        api_response = api_instance.get_task_info(id)
        print("The response of TasksAPIApi->get_task_info:\n")
        pprint(api_response)
    except Exception as e:
        print("Exception when calling TasksAPIApi->get_task_info: %s\n" % e)
