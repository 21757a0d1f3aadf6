"""The Amazon Personalize side: error taxonomy, tracker data, the client, the call budget, status boards, tenancy."""
